import GranaryLMDB
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// An in-flight write session (an upload between its first byte and its commit or abort),
/// registered in LMDB so that GC in any process sees it.
///
/// Why: an upload that finds a chunk live references it instead of writing it, and only raises
/// its refcount at commit. Were that chunk to die and be reclaimed meanwhile, the commit would
/// reference nothing. GC therefore reclaims a chunk only if it died before the oldest
/// registered session began: such a session cannot have seen it live.
package struct SessionTicket: Sendable, Hashable {
    /// `pid u32 BE | counter u64 BE`: unique per process, and the pid tells whether its owner lives.
    let key: [UInt8]
    /// Unix seconds when the session registered.
    package let started: Int

    private static let counter = Atomic<UInt64>(0)

    static func next(now: Int) -> SessionTicket {
        var key: [UInt8] = []
        key.appendBigEndian(UInt32(bitPattern: getpid()))
        key.appendBigEndian(counter.add(1, ordering: .relaxed).newValue)
        return SessionTicket(key: key, started: now)
    }

    private init(key: [UInt8], started: Int) {
        self.key = key
        self.started = started
    }
}

/// A registered session as stored: `store.sessions` key → `started i64 LE | pid i32 LE`.
struct SessionRow {
    var started: Int
    var pid: Int32

    func encoded() -> [UInt8] {
        var b: [UInt8] = []
        b.appendLittleEndian(Int64(started))
        b.appendLittleEndian(pid)
        return b
    }

    init(started: Int, pid: Int32) {
        self.started = started
        self.pid = pid
    }

    init(_ b: UnsafeRawBufferPointer) throws(StoreError) {
        guard b.count == 12 else { throw StoreError(.corrupt, "session row of \(b.count) bytes does not parse") }
        started = Int(b.littleEndian(at: 0, as: Int64.self))
        pid = b.littleEndian(at: 8, as: Int32.self)
    }

    /// Whether the owning process still runs (a crashed process's sessions protect nothing).
    var ownerIsAlive: Bool { kill(pid_t(pid), 0) == 0 || errno == EPERM }
}

extension BlobStore {
    /// Registers a write session; durable before any chunk lookup of the session happens.
    func registerSession() async throws -> SessionTicket {
        let ticket = SessionTicket.next(now: Int(time(nil)))
        let keyspace = self.keyspace
        let row = SessionRow(started: ticket.started, pid: getpid()).encoded()
        try await coordinator.submit { txn in try txn.put(keyspace.sessions, ticket.key, row) }
        return ticket
    }

    /// Ends a session inside the transaction that commits its upload.
    static func endSession(_ ticket: SessionTicket, in txn: borrowing WriteTransaction, keyspace: Keyspace) throws {
        _ = try txn.delete(keyspace.sessions, ticket.key)
    }

    /// Ends a session whose upload failed or was dropped, waiting for it.
    func endSession(_ ticket: SessionTicket) async {
        let keyspace = self.keyspace
        _ = try? await coordinator.submit { txn in try Self.endSession(ticket, in: txn, keyspace: keyspace) }
    }

    /// Ends a session from where nobody can wait (a deinit); a lost end is cleaned up later as stale.
    func endSessionDetached(_ ticket: SessionTicket) {
        let keyspace = self.keyspace
        coordinator.post { txn in try Self.endSession(ticket, in: txn, keyspace: keyspace) }
    }

    /// The start (unix seconds) of the oldest session whose process still runs, or nil.
    static func oldestSessionStart(in txn: borrowing Transaction<some TransactionAccess>, keyspace: Keyspace) throws -> Int? {
        var oldest: Int?
        try txn.forEach(keyspace.sessions) { _, value in
            let row = try SessionRow(value)
            if row.ownerIsAlive { oldest = min(oldest ?? row.started, row.started) }
            return true
        }
        return oldest
    }

    /// Removes sessions whose process is gone (it crashed mid-upload).
    /// - Returns: how many were removed.
    static func removeStaleSessions(in txn: borrowing WriteTransaction, keyspace: Keyspace) throws -> Int {
        var stale: [[UInt8]] = []
        try txn.forEach(keyspace.sessions) { key, value in
            if try !SessionRow(value).ownerIsAlive { stale.append(Array(key)) }
            return true
        }
        for key in stale { _ = try txn.delete(keyspace.sessions, key) }
        return stale.count
    }
}
