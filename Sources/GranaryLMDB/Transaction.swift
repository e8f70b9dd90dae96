import CGranaryLMDB

/// Marks what a ``Transaction`` may do. Reads are possible in both; writes only in ``ReadWrite``.
package protocol TransactionAccess {}
/// A read-only snapshot (`MDB_RDONLY`).
package enum ReadOnly: TransactionAccess {}
/// A write transaction; it also sees its own uncommitted writes.
package enum ReadWrite: TransactionAccess {}

package typealias ReadTransaction = Transaction<ReadOnly>
package typealias WriteTransaction = Transaction<ReadWrite>

/// An LMDB transaction, lent to a closure by ``Environment/read(_:)``, ``Environment/write(_:)``
/// or ``WriteCoordinator``.
///
/// It is `~Copyable` and only ever borrowed, so it cannot escape the closure that owns its
/// lifetime; the access type makes a write on a read transaction a compile error.
/// Buffers it hands out point into the memory map and are valid only until the closure returns.
package struct Transaction<Access: TransactionAccess>: ~Copyable {
    let handle: OpaquePointer
}

extension Transaction {
    /// Lends the value stored under `key` to `body`, or returns nil when there is none.
    ///
    /// Uses `mdb_get`; the buffer points into the map, no copy is made.
    package func withValue<R>(
        _ db: Database,
        _ key: UnsafeRawBufferPointer,
        _ body: (UnsafeRawBufferPointer) throws -> R
    ) throws -> R? {
        // No such key can have been stored (a lookup by an id from a request, say).
        guard !key.isEmpty, key.count <= Environment.maxKeySize else { return nil }
        var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        var v = MDB_val()
        let rc = mdb_get(handle, db.dbi, &k, &v)
        if rc == MDB_NOTFOUND { return nil }
        try check(rc, "mdb_get(\(db.name))")
        return try body(UnsafeRawBufferPointer(start: v.mv_data, count: v.mv_size))
    }

    /// A copy of the value stored under `key`, or nil.
    package func value(_ db: Database, _ key: [UInt8]) throws -> [UInt8]? {
        try key.withUnsafeBytes { k in try withValue(db, k) { Array($0) } }
    }

    /// Whether `key` has a value.
    package func contains(_ db: Database, _ key: [UInt8]) throws -> Bool {
        try key.withUnsafeBytes { k in try withValue(db, k) { _ in true } } ?? false
    }

    /// The number of entries in `db`, from `mdb_stat` (no scan).
    package func count(_ db: Database) throws(LMDBError) -> Int {
        var stat = MDB_stat()
        try check(mdb_stat(handle, db.dbi, &stat), "mdb_stat(\(db.name))")
        return stat.ms_entries
    }

    /// Lends a cursor over `db` to `body`; the cursor is closed when `body` returns.
    package func withCursor<R>(_ db: Database, _ body: (borrowing Cursor<Access>) throws -> R) throws -> R {
        var cursor: OpaquePointer?
        try check(mdb_cursor_open(handle, db.dbi, &cursor), "mdb_cursor_open(\(db.name))")
        guard let cursor else { throw LMDBError(code: .badTransaction, operation: "mdb_cursor_open") }
        defer { mdb_cursor_close(cursor) }
        return try body(Cursor(handle: cursor, database: db))
    }

    /// Calls `body` for each entry with key ≥ `start` (all entries when nil), in key order,
    /// until it returns false.
    package func forEach(
        _ db: Database,
        from start: [UInt8]? = nil,
        _ body: (_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) throws -> Bool
    ) throws {
        try withCursor(db) { cursor in
            var entry = try start.map { s in try cursor.seek(atOrAfter: s) } ?? cursor.first()
            while let current = entry {
                guard try body(current.key, current.value) else { return }
                entry = try cursor.next()
            }
        }
    }
}

extension Transaction where Access == ReadWrite {
    /// Stores `value` under `key`, replacing what was there unless `flags` say otherwise.
    ///
    /// Uses `mdb_put`. With `.noOverwrite`, an existing key throws ``LMDBError/Code/keyExists``.
    package func put(
        _ db: Database,
        _ key: UnsafeRawBufferPointer,
        _ value: UnsafeRawBufferPointer,
        flags: PutFlags = []
    ) throws(LMDBError) {
        var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        var v = MDB_val(mv_size: value.count, mv_data: UnsafeMutableRawPointer(mutating: value.baseAddress))
        try check(mdb_put(handle, db.dbi, &k, &v, flags.rawValue), "mdb_put(\(db.name))")
    }

    /// Stores `value` under `key` (array convenience for code off the hot path).
    package func put(_ db: Database, _ key: [UInt8], _ value: [UInt8], flags: PutFlags = []) throws {
        try key.withUnsafeBytes { k in
            try value.withUnsafeBytes { v in try put(db, k, v, flags: flags) }
        }
    }

    /// Stores `value` only when `key` is absent; returns false when it was already there.
    package func insert(_ db: Database, _ key: [UInt8], _ value: [UInt8]) throws -> Bool {
        do {
            try put(db, key, value, flags: .noOverwrite)
            return true
        } catch let error as LMDBError where error.code == .keyExists {
            return false
        }
    }

    /// Reserves `count` bytes under `key` and lets `fill` write them in place (`MDB_RESERVE`):
    /// no intermediate buffer for large values.
    package func reserve(
        _ db: Database,
        _ key: UnsafeRawBufferPointer,
        count: Int,
        _ fill: (UnsafeMutableRawBufferPointer) throws -> Void
    ) throws {
        var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        var v = MDB_val(mv_size: count, mv_data: nil)
        try check(mdb_put(handle, db.dbi, &k, &v, UInt32(MDB_RESERVE)), "mdb_put(\(db.name), reserve)")
        try fill(UnsafeMutableRawBufferPointer(start: v.mv_data, count: count))
    }

    /// Removes `key`; returns false when it was not there.
    @discardableResult
    package func delete(_ db: Database, _ key: UnsafeRawBufferPointer) throws(LMDBError) -> Bool {
        guard !key.isEmpty, key.count <= Environment.maxKeySize else { return false }
        var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        let rc = mdb_del(handle, db.dbi, &k, nil)
        if rc == MDB_NOTFOUND { return false }
        try check(rc, "mdb_del(\(db.name))")
        return true
    }

    /// Removes `key` (array convenience).
    @discardableResult
    package func delete(_ db: Database, _ key: [UInt8]) throws -> Bool {
        try key.withUnsafeBytes { k in try delete(db, k) }
    }

    /// Removes every entry of `db`, keeping the database. Uses `mdb_drop` with `del = 0`.
    package func removeAll(_ db: Database) throws(LMDBError) {
        try check(mdb_drop(handle, db.dbi, 0), "mdb_drop(\(db.name))")
    }
}
