import GranaryCodec
import GranaryTesting
import Testing

@Suite struct PairedSHA256Tests {
    /// A running stream fed beside batches (a whole object's SHA-256 beside its chunks'),
    /// with pieces longer and shorter than the batch, ends with OpenSSL's digest of all of it.
    @Test func aStreamFedBesideBatchesGivesTheWholeDigest() {
        var generator = SeededRandom(seed: 10)
        let data = (0..<400_000).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let hashes = PairedSHA256()
        let stream = SHA256Stream()
        let whole = StreamingDigest(.sha256)
        data.withUnsafeBytes { bytes in
            for round in 0..<60 {
                let piece = round % 3 == 0 ? 0 : Int.random(in: 1...150_000, using: &generator)
                let start = Int.random(in: 0...(bytes.count - piece), using: &generator)
                let pieceBytes = UnsafeRawBufferPointer(rebasing: bytes[start..<(start + piece)])
                whole.update(pieceBytes)
                let messages: [[UnsafeRawBufferPointer]] = (0..<Int.random(in: 0...4, using: &generator)).map { _ in
                    let length = Int.random(in: 0...100_000, using: &generator)
                    let at = Int.random(in: 0...(bytes.count - length), using: &generator)
                    return [UnsafeRawBufferPointer(rebasing: bytes[at..<(at + length)])]
                }
                let out = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, messages.count) * 32, alignment: 8)
                defer { out.deallocate() }
                if round % 5 == 4 {
                    stream.update(pieceBytes)  // fed alone now and then
                    hashes.digests(of: messages, into: out)
                } else {
                    hashes.digests(of: messages, into: out, alongside: stream, streamBytes: pieceBytes)
                }
                for (index, segments) in messages.enumerated() {
                    #expect(Array(out[(index * 32)..<(index * 32 + 32)]) == StreamingDigest.hash(.sha256, segments[0]).bytes)
                }
            }
        }
        #expect(stream.finalize() == whole.finalize())
        #expect(stream.finalize().hex == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")  // starts over
    }

    /// Random batches of messages of one to three segments (empty ones, lengths around block
    /// and padding edges, chunk-sized ones, segment ends mid-block) give OpenSSL's digests.
    @Test func batchesGiveOpenSSLsDigests() {
        #expect(PairedSHA256.isAccelerated, "this project's machines have the SHA extensions")
        var generator = SeededRandom(seed: 9)
        let data = (0..<600_000).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let edges = [0, 1, 55, 56, 63, 64, 65, 119, 120, 128, 1_000, 65_536, 262_144]
        let hashes = PairedSHA256()
        data.withUnsafeBytes { bytes in
            for round in 0..<200 {
                let count = round < 8 ? round : Int.random(in: 0...9, using: &generator)
                let messages: [[UnsafeRawBufferPointer]] = (0..<count).map { _ in
                    (0..<Int.random(in: 1...3, using: &generator)).map { _ in
                        let length =
                            Bool.random(using: &generator) ? edges.randomElement(using: &generator)! : Int.random(in: 0...70_000, using: &generator)
                        let start = Int.random(in: 0...(bytes.count - length), using: &generator)
                        return UnsafeRawBufferPointer(rebasing: bytes[start..<(start + length)])
                    }
                }
                let out = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, count) * 32, alignment: 8)
                defer { out.deallocate() }
                hashes.digests(of: messages, into: out)
                for (index, segments) in messages.enumerated() {
                    let reference = StreamingDigest(.sha256)
                    for segment in segments { reference.update(segment) }
                    let expected = reference.finalize().bytes
                    #expect(Array(out[(index * 32)..<(index * 32 + 32)]) == expected, "round \(round), message \(index) of \(count)")
                }
            }
        }
    }
}
