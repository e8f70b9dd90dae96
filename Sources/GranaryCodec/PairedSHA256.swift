import CGranarySHA256

/// SHA-256 of many independent messages (chunks), two at a time on one core.
///
/// One SHA-256 stream is a single dependency chain, so it leaves the CPU's SHA unit idle half
/// the time; two streams side by side run ~1.9× as fast here (`sha256_pair.c`). Where the CPU
/// lacks the SHA extensions, each message goes through OpenSSL in turn. One owner at a time.
package final class PairedSHA256 {
    private let contexts = UnsafeMutablePointer<cgranary_sha256>.allocate(capacity: 2)
    private let fallback: StreamingDigest?

    /// Whether the two-stream path runs here (false: OpenSSL, one message at a time).
    package static let isAccelerated = cgranary_sha256_pair_available() != 0

    package init() {
        contexts.initialize(repeating: cgranary_sha256(), count: 2)
        fallback = Self.isAccelerated ? nil : StreamingDigest(.sha256)
    }

    deinit { contexts.deallocate() }

    /// Writes the digest of each message (its segments taken together) to `out`, 32 bytes each,
    /// in the messages' order. With `stream`, `streamBytes` are added to that running digest
    /// too, its blocks paired with the messages' (a whole object's SHA-256 beside its chunks').
    package func digests(
        of messages: [[UnsafeRawBufferPointer]], into out: UnsafeMutableRawBufferPointer,
        alongside stream: SHA256Stream? = nil, streamBytes: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0)
    ) {
        precondition(out.count >= messages.count * 32, "room for \(messages.count) digests needed")
        guard let fallback else {
            hashInPairs(messages, into: out, stream: stream.map { ($0.context, streamBytes) })
            return
        }
        stream?.update(streamBytes)
        for (index, segments) in messages.enumerated() {
            fallback.reset()
            for segment in segments { fallback.update(segment) }
            fallback.finalize(into: UnsafeMutableRawBufferPointer(rebasing: out[(index * 32)..<(index * 32 + 32)]))
        }
    }

    /// Where one of the two streams is: which message (-1: the running stream), which of its
    /// segments, how far into it, and whose context it feeds.
    private struct Cursor {
        var message: Int
        var context: UnsafeMutablePointer<cgranary_sha256>
        var segment = 0
        var offset = 0
    }

    private func hashInPairs(
        _ messages: [[UnsafeRawBufferPointer]], into out: UnsafeMutableRawBufferPointer,
        stream: (context: UnsafeMutablePointer<cgranary_sha256>, bytes: UnsafeRawBufferPointer)?
    ) {
        var next = 0
        var lanes: [Cursor?] = [nil, nil]
        /// Gives `lane` the next message, or nil when none is left.
        func start(_ lane: Int) {
            guard next < messages.count else {
                lanes[lane] = nil
                return
            }
            cgranary_sha256_init(contexts + lane)
            lanes[lane] = Cursor(message: next, context: contexts + lane)
            next += 1
        }
        func segments(_ cursor: Cursor) -> [UnsafeRawBufferPointer] {
            cursor.message < 0 ? [stream!.bytes] : messages[cursor.message]
        }
        /// Bytes left in the lane's current segment; finishes the message (and starts the next)
        /// at its end, so a lane that answers is either idle (nil) or has bytes to take.
        func remaining(_ lane: Int) -> Int? {
            while let cursor = lanes[lane] {
                let segments = segments(cursor)
                if cursor.segment < segments.count {
                    let left = segments[cursor.segment].count - cursor.offset
                    if left > 0 { return left }
                    lanes[lane]?.segment += 1
                    lanes[lane]?.offset = 0
                    continue
                }
                // The running stream is not finished here: its owner goes on feeding it.
                if cursor.message >= 0 { cgranary_sha256_final(cursor.context, out.baseAddress! + cursor.message * 32) }
                start(lane)
            }
            return nil
        }
        func pointer(_ lane: Int) -> UnsafeRawPointer {
            let cursor = lanes[lane]!
            return segments(cursor)[cursor.segment].baseAddress! + cursor.offset
        }
        if let stream {
            lanes[0] = Cursor(message: -1, context: stream.context)
        } else {
            start(0)
        }
        start(1)
        while true {
            switch (remaining(0), remaining(1)) {
            case let (a?, b?):
                let n = min(a, b)
                cgranary_sha256_update2(lanes[0]!.context, pointer(0), lanes[1]!.context, pointer(1), n)
                lanes[0]?.offset += n
                lanes[1]?.offset += n
            case (let a?, nil):
                cgranary_sha256_update(lanes[0]!.context, pointer(0), a)
                lanes[0]?.offset += a
            case (nil, let b?):
                cgranary_sha256_update(lanes[1]!.context, pointer(1), b)
                lanes[1]?.offset += b
            case (nil, nil):
                return
            }
        }
    }
}

/// A whole object's running SHA-256 whose blocks ``PairedSHA256`` can compress beside chunk
/// messages (OpenSSL where the CPU lacks the SHA extensions). One owner at a time.
package final class SHA256Stream {
    let context = UnsafeMutablePointer<cgranary_sha256>.allocate(capacity: 1)
    private let fallback: StreamingDigest?

    package init() {
        context.initialize(to: cgranary_sha256())
        cgranary_sha256_init(context)
        fallback = PairedSHA256.isAccelerated ? nil : StreamingDigest(.sha256)
    }

    deinit { context.deallocate() }

    /// Feeds `bytes` on its own.
    package func update(_ bytes: UnsafeRawBufferPointer) {
        if let fallback { return fallback.update(bytes) }
        guard let base = bytes.baseAddress else { return }
        cgranary_sha256_update(context, base, bytes.count)
    }

    /// The digest of everything fed; starts over.
    package func finalize() -> Digest {
        if let fallback { return fallback.finalize() }
        var bytes = [UInt8](repeating: 0, count: 32)
        cgranary_sha256_final(context, &bytes)
        cgranary_sha256_init(context)
        return Digest(algorithm: .sha256, bytes: bytes)
    }
}
