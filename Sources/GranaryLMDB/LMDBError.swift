import CGranaryLMDB

/// An error from LMDB, naming the C call that failed and the LMDB return code.
///
/// Codes are a struct over the C constants (swift-system `Errno` style) so callers can match the
/// ones they handle (`.mapFull`, `.keyExists`) without an open enum that cannot grow.
package struct LMDBError: Error, Sendable, CustomStringConvertible, Equatable {
    /// An LMDB (or errno) return code.
    package struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        package let rawValue: Int32
        package init(rawValue: Int32) { self.rawValue = rawValue }

        /// The key/data pair already exists. The corresponding C constant is `MDB_KEYEXIST`.
        package static let keyExists = Code(rawValue: MDB_KEYEXIST)
        /// The key/data pair was not found. The corresponding C constant is `MDB_NOTFOUND`.
        package static let notFound = Code(rawValue: MDB_NOTFOUND)
        /// A requested page was not found: the database is corrupt. C constant `MDB_PAGE_NOTFOUND`.
        package static let pageNotFound = Code(rawValue: MDB_PAGE_NOTFOUND)
        /// The located page was the wrong type. C constant `MDB_CORRUPTED`.
        package static let corrupted = Code(rawValue: MDB_CORRUPTED)
        /// An update of meta page failed or the environment had a fatal error. C constant `MDB_PANIC`.
        package static let panic = Code(rawValue: MDB_PANIC)
        /// The environment was written by another LMDB version. C constant `MDB_VERSION_MISMATCH`.
        package static let versionMismatch = Code(rawValue: MDB_VERSION_MISMATCH)
        /// The file is not a valid LMDB file. C constant `MDB_INVALID`.
        package static let invalid = Code(rawValue: MDB_INVALID)
        /// The environment's map size was reached. C constant `MDB_MAP_FULL`.
        package static let mapFull = Code(rawValue: MDB_MAP_FULL)
        /// No more named databases can be opened. C constant `MDB_DBS_FULL`.
        package static let databasesFull = Code(rawValue: MDB_DBS_FULL)
        /// The reader lock table is full. C constant `MDB_READERS_FULL`.
        package static let readersFull = Code(rawValue: MDB_READERS_FULL)
        /// The transaction has too many dirty pages. C constant `MDB_TXN_FULL`.
        package static let transactionFull = Code(rawValue: MDB_TXN_FULL)
        /// Another process grew the map beyond this one's size. C constant `MDB_MAP_RESIZED`.
        package static let mapResized = Code(rawValue: MDB_MAP_RESIZED)
        /// The database was opened with incompatible flags. C constant `MDB_INCOMPATIBLE`.
        package static let incompatible = Code(rawValue: MDB_INCOMPATIBLE)
        /// The transaction must abort, has a child, or is invalid. C constant `MDB_BAD_TXN`.
        package static let badTransaction = Code(rawValue: MDB_BAD_TXN)
        /// A key or value has an unsupported size. C constant `MDB_BAD_VALSIZE`.
        package static let badValueSize = Code(rawValue: MDB_BAD_VALSIZE)

        package var description: String { String(cString: mdb_strerror(rawValue)) }
    }

    /// What went wrong, as LMDB says it.
    package let code: Code
    /// The C function that returned the code, e.g. `mdb_put`.
    package let operation: String
    /// What a user can do about it, when there is something to say.
    package let hint: String?

    package init(code: Code, operation: String, hint: String? = nil) {
        self.code = code
        self.operation = operation
        self.hint = hint
    }

    package var description: String {
        var text = "LMDB \(operation) failed: \(code) (code \(code.rawValue))"
        if let hint { text += "; \(hint)" }
        return text
    }
}

/// Turns an LMDB return code into a thrown ``LMDBError``.
@inline(__always)
func check(_ rc: Int32, _ operation: @autoclosure () -> String) throws(LMDBError) {
    guard rc != MDB_SUCCESS else { return }
    let code = LMDBError.Code(rawValue: rc)
    let hint: String? =
        switch code {
        case .mapFull: "the index reached its map size; raise `index.map_size` in the configuration (it is only address space)"
        case .readersFull: "too many concurrent readers; raise `index.max_readers`"
        case .databasesFull: "too many named databases; raise the environment's maxDatabases"
        default: nil
        }
    throw LMDBError(code: code, operation: operation(), hint: hint)
}
