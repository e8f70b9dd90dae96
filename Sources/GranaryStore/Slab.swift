import Synchronization

/// A fixed-size buffer of upload bytes moving through an ingest session's lanes.
///
/// Every pass (digests, chunking, chunk hashing, the pack write) reads the slab's memory in
/// place; the only copy is the one that fills it.
final class Slab: @unchecked Sendable {
    // Safe because a slab has one writer (the producer) until it is submitted, then only
    // readers (the lanes) until the pool takes it back.
    let storage: UnsafeMutableRawBufferPointer
    var count = 0

    init(capacity: Int) {
        storage = .allocate(byteCount: capacity, alignment: 64)
    }

    deinit { storage.deallocate() }

    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: storage[0..<count]) }
    var isFull: Bool { count == storage.count }
}

/// A bounded set of slabs per upload: when all are in flight the producer waits, which stops
/// reading the socket (backpressure) and keeps an upload's memory at `count × capacity`.
final class SlabPool: Sendable {
    private let state: Mutex<State>

    private struct State: ~Copyable {
        var free: [Slab]
        var waiters: [CheckedContinuation<Slab, Never>] = []
    }

    init(count: Int, capacity: Int) {
        state = Mutex(State(free: (0..<count).map { _ in Slab(capacity: capacity) }))
    }

    func acquire() async -> Slab {
        if let slab = state.withLock({ $0.free.popLast() }) { return slab }
        return await withCheckedContinuation { continuation in
            let ready = state.withLock { state -> Slab? in
                if let slab = state.free.popLast() { return slab }
                state.waiters.append(continuation)
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    func release(_ slab: Slab) {
        slab.count = 0
        let waiter = state.withLock { state -> CheckedContinuation<Slab, Never>? in
            if state.waiters.isEmpty {
                state.free.append(slab)
                return nil
            }
            return state.waiters.removeFirst()
        }
        waiter?.resume(returning: slab)
    }
}

/// A chunk's bytes: one range of one slab, or the end of one slab and the start of the next
/// (the maximum chunk size is below the slab size, so never more).
struct ChunkSpan {
    var first: Slab
    var firstRange: Range<Int>
    var second: Slab?
    var secondRange: Range<Int> = 0..<0
    var key: SHA256Key?

    var length: Int { firstRange.count + secondRange.count }

    var segments: [UnsafeRawBufferPointer] {
        let head = UnsafeRawBufferPointer(rebasing: first.storage[firstRange])
        guard let second else { return [head] }
        return [head, UnsafeRawBufferPointer(rebasing: second.storage[secondRange])]
    }

    /// Whether every byte is zero (sparse disk images are full of such chunks). Random data
    /// fails on the first word, so the cost is paid only where it pays.
    var isAllZero: Bool {
        for segment in segments {
            var i = 0
            let n = segment.count
            while i + 8 <= n {
                if segment.loadUnaligned(fromByteOffset: i, as: UInt64.self) != 0 { return false }
                i += 8
            }
            while i < n {
                if segment[i] != 0 { return false }
                i += 1
            }
        }
        return true
    }
}
