import CGranaryLMDB

/// A named database (LMDB "DBI") inside an ``Environment``: an ordered map from byte keys to bytes.
package struct Database: Sendable, Hashable {
    /// Options for a database, fixed when it is created.
    package struct Flags: OptionSet, Sendable {
        package let rawValue: UInt32
        package init(rawValue: UInt32) { self.rawValue = rawValue }

        /// Keys compare from their last byte to their first. The C constant is `MDB_REVERSEKEY`.
        package static let reverseKey = Flags(rawValue: UInt32(MDB_REVERSEKEY))
        /// A key may hold several sorted values. The C constant is `MDB_DUPSORT`.
        package static let duplicateSort = Flags(rawValue: UInt32(MDB_DUPSORT))
    }

    package let name: String
    let dbi: MDB_dbi
}

/// Options for a single put.
package struct PutFlags: OptionSet, Sendable {
    package let rawValue: UInt32
    package init(rawValue: UInt32) { self.rawValue = rawValue }

    /// Fail with `.keyExists` instead of replacing. The C constant is `MDB_NOOVERWRITE`.
    package static let noOverwrite = PutFlags(rawValue: UInt32(MDB_NOOVERWRITE))
    /// Keys arrive in ascending order: a fast append. The C constant is `MDB_APPEND`.
    package static let append = PutFlags(rawValue: UInt32(MDB_APPEND))
}
