import CGranaryLMDB

/// A position in a ``Database`` during one transaction, lent by ``Transaction/withCursor(_:_:)``.
///
/// Each move returns the entry it lands on, or nil past either end. Entry buffers point into
/// the map and are valid until the next move or the end of the transaction.
package struct Cursor<Access: TransactionAccess>: ~Copyable {
    /// A key and its value, both lent from the map.
    package struct Entry {
        package let key: UnsafeRawBufferPointer
        package let value: UnsafeRawBufferPointer
    }

    let handle: OpaquePointer
    let database: Database

    private func move(_ op: MDB_cursor_op, key: UnsafeRawBufferPointer? = nil) throws(LMDBError) -> Entry? {
        var k = MDB_val(mv_size: key?.count ?? 0, mv_data: UnsafeMutableRawPointer(mutating: key?.baseAddress))
        var v = MDB_val()
        let rc = mdb_cursor_get(handle, &k, &v, op)
        if rc == MDB_NOTFOUND { return nil }
        try check(rc, "mdb_cursor_get(\(database.name))")
        return Entry(
            key: UnsafeRawBufferPointer(start: k.mv_data, count: k.mv_size),
            value: UnsafeRawBufferPointer(start: v.mv_data, count: v.mv_size)
        )
    }

    /// The first entry (`MDB_FIRST`).
    package func first() throws(LMDBError) -> Entry? { try move(MDB_FIRST) }
    /// The last entry (`MDB_LAST`).
    package func last() throws(LMDBError) -> Entry? { try move(MDB_LAST) }
    /// The entry after the current one (`MDB_NEXT`).
    package func next() throws(LMDBError) -> Entry? { try move(MDB_NEXT) }
    /// The entry before the current one (`MDB_PREV`).
    package func previous() throws(LMDBError) -> Entry? { try move(MDB_PREV) }

    /// The first entry whose key is ≥ `key` (`MDB_SET_RANGE`): a range seek.
    ///
    /// A key longer than LMDB takes (a marker or filter value from a request) cannot be stored,
    /// so the answer is found from its first ``Environment/maxKeySize`` bytes: of the stored keys,
    /// only that prefix itself sorts between it and the whole key.
    package func seek(atOrAfter key: UnsafeRawBufferPointer) throws(LMDBError) -> Entry? {
        if key.isEmpty { return try first() }
        guard key.count > Environment.maxKeySize else { return try move(MDB_SET_RANGE, key: key) }
        let prefix = UnsafeRawBufferPointer(rebasing: key[..<Environment.maxKeySize])
        guard let entry = try move(MDB_SET_RANGE, key: prefix) else { return nil }
        return entry.key.elementsEqual(prefix) ? try next() : entry
    }

    /// The first entry whose key is ≥ `key` (array convenience).
    package func seek(atOrAfter key: [UInt8]) throws -> Entry? {
        try key.withUnsafeBytes { k in try seek(atOrAfter: k) }
    }

    /// The entry whose key is exactly `key` (`MDB_SET_KEY`), or nil.
    package func seek(exactly key: [UInt8]) throws -> Entry? {
        guard !key.isEmpty, key.count <= Environment.maxKeySize else { return nil }
        return try key.withUnsafeBytes { k in try move(MDB_SET_KEY, key: k) }
    }

    /// The last entry whose key is ≤ `key`: a seek for descending scans.
    package func seek(atOrBefore key: [UInt8]) throws -> Entry? {
        guard let entry = try seek(atOrAfter: key) else { return try last() }
        if entry.key.elementsEqual(key) { return entry }
        return try previous()
    }
}

extension Cursor where Access == ReadWrite {
    /// Removes the entry under the cursor (`mdb_cursor_del`); the next move continues after it.
    package func deleteCurrent() throws(LMDBError) {
        try check(mdb_cursor_del(handle, 0), "mdb_cursor_del(\(database.name))")
    }
}
