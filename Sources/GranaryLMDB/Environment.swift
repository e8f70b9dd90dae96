import CGranaryLMDB

/// An open LMDB environment: one memory map, one lock file, many named databases.
///
/// LMDB allows one environment per file per process, so create one and share it. The handle is
/// thread-safe; transactions are not (see ``Transaction``). It is opened with `MDB_NOTLS` so read
/// transactions are not tied to threads, which Swift concurrency requires.
package final class Environment: @unchecked Sendable {
    /// The longest key LMDB stores (`mdb_env_get_maxkeysize` of Debian's build, its default).
    package static let maxKeySize = 511

    /// Settings fixed when the environment opens.
    package struct Options: Sendable {
        /// Largest size the map may grow to. It is only reserved address space, so set it large.
        package var mapSize: Int = 1 << 40
        /// How many named databases may be opened.
        package var maxDatabases: Int = 64
        /// How many read transactions may be open at once, across processes.
        package var maxReaders: Int = 510
        /// When false, commits skip fsync (`MDB_NOSYNC`): only for tests and bulk loads.
        package var durable: Bool = true

        package init() {}
    }

    let handle: OpaquePointer
    /// The directory holding `data.mdb` and `lock.mdb`.
    package let path: String
    package let options: Options

    /// Opens (creating when missing) the environment in `directory`, which must exist.
    ///
    /// #### Implementation details
    /// Uses `mdb_env_create`, `mdb_env_set_mapsize`, `mdb_env_set_maxdbs`, `mdb_env_set_maxreaders`
    /// and `mdb_env_open` with `MDB_NOTLS | MDB_NORDAHEAD`; every failure after create closes the handle.
    package init(directory: String, options: Options = Options()) throws(LMDBError) {
        var env: OpaquePointer?
        try check(mdb_env_create(&env), "mdb_env_create")
        guard let env else { throw LMDBError(code: .invalid, operation: "mdb_env_create") }
        do {
            try check(mdb_env_set_mapsize(env, options.mapSize), "mdb_env_set_mapsize")
            try check(mdb_env_set_maxdbs(env, MDB_dbi(options.maxDatabases)), "mdb_env_set_maxdbs")
            try check(mdb_env_set_maxreaders(env, UInt32(options.maxReaders)), "mdb_env_set_maxreaders")
            var flags = UInt32(MDB_NOTLS) | UInt32(MDB_NORDAHEAD)
            if !options.durable { flags |= UInt32(MDB_NOSYNC) }
            try check(mdb_env_open(env, directory, flags, 0o644), "mdb_env_open(\(directory))")
        } catch {
            mdb_env_close(env)
            throw error
        }
        self.handle = env
        self.path = directory
        self.options = options
    }

    deinit { mdb_env_close(handle) }

    /// Opens a named database, creating it when missing.
    ///
    /// Database handles stay valid for the environment's life; open each once at start-up.
    package func openDatabase(_ name: String, flags: Database.Flags = []) throws(LMDBError) -> Database {
        var txn: OpaquePointer?
        try check(mdb_txn_begin(handle, nil, 0, &txn), "mdb_txn_begin")
        var dbi: MDB_dbi = 0
        let rc = mdb_dbi_open(txn, name, flags.rawValue | UInt32(MDB_CREATE), &dbi)
        if rc != MDB_SUCCESS { mdb_txn_abort(txn) }
        try check(rc, "mdb_dbi_open(\(name))")
        try check(mdb_txn_commit(txn), "mdb_txn_commit")
        return Database(name: name, dbi: dbi)
    }

    /// Runs `body` in a read-only snapshot. The transaction ends when `body` returns or throws.
    ///
    /// Values read inside are only valid until `body` returns: copy what must escape. `body` is
    /// synchronous, so the snapshot never spans a suspension point; with `MDB_NOTLS` it may be
    /// called from any thread, async code included.
    package func read<R>(_ body: (borrowing ReadTransaction) throws -> R) throws -> R {
        var txn: OpaquePointer?
        try check(mdb_txn_begin(handle, nil, UInt32(MDB_RDONLY), &txn), "mdb_txn_begin(read-only)")
        guard let txn else { throw LMDBError(code: .badTransaction, operation: "mdb_txn_begin") }
        defer { mdb_txn_abort(txn) }
        return try body(ReadTransaction(handle: txn))
    }

    /// Runs `body` in a write transaction that commits when it returns and aborts when it throws.
    ///
    /// Only one write transaction runs at a time per environment (across processes). Prefer
    /// ``WriteCoordinator`` from concurrent code: it batches many callers into one commit.
    @available(*, noasync, message: "a write waits for LMDB's writer lock; submit to a WriteCoordinator from async code")
    package func write<R>(_ body: (borrowing WriteTransaction) throws -> R) throws -> R {
        var txn: OpaquePointer?
        try check(mdb_txn_begin(handle, nil, 0, &txn), "mdb_txn_begin")
        guard let txn else { throw LMDBError(code: .badTransaction, operation: "mdb_txn_begin") }
        let result: R
        do {
            result = try body(WriteTransaction(handle: txn))
        } catch {
            mdb_txn_abort(txn)
            throw error
        }
        try check(mdb_txn_commit(txn), "mdb_txn_commit")
        return result
    }

    /// Flushes the map to disk; only needed when the environment is not durable.
    package func sync() throws(LMDBError) {
        try check(mdb_env_sync(handle, 1), "mdb_env_sync")
    }

    /// Clears reader slots left by dead processes and returns how many were cleared.
    ///
    /// A crashed reader pins old pages until its slot is freed; the server runs this periodically.
    package func clearStaleReaders() throws(LMDBError) -> Int {
        var dead: Int32 = 0
        try check(mdb_reader_check(handle, &dead), "mdb_reader_check")
        return Int(dead)
    }

    /// Facts about the map: its size, the bytes in use and the last committed transaction.
    package func info() throws(LMDBError) -> Info {
        var info = MDB_envinfo()
        try check(mdb_env_info(handle, &info), "mdb_env_info")
        var stat = MDB_stat()
        try check(mdb_env_stat(handle, &stat), "mdb_env_stat")
        return Info(
            mapSize: info.me_mapsize,
            usedBytes: (info.me_last_pgno + 1) * Int(stat.ms_psize),
            lastTransactionID: info.me_last_txnid,
            readers: Int(info.me_numreaders)
        )
    }

    /// See ``Environment/info()``.
    package struct Info: Sendable {
        package let mapSize: Int
        package let usedBytes: Int
        package let lastTransactionID: Int
        package let readers: Int
    }
}
