import CGranaryLMDB

/// A named database (LMDB "DBI") inside an ``Environment``: an ordered map from byte keys to bytes.
public struct Database: Sendable, Hashable {
    /// Options for a database, fixed when it is created.
    public struct Flags: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }

        /// Keys compare from their last byte to their first. The C constant is `MDB_REVERSEKEY`.
        public static let reverseKey = Flags(rawValue: UInt32(MDB_REVERSEKEY))
        /// A key may hold several sorted values. The C constant is `MDB_DUPSORT`.
        public static let duplicateSort = Flags(rawValue: UInt32(MDB_DUPSORT))
    }

    public let name: String
    let dbi: MDB_dbi
}

/// Options for a single put.
public struct PutFlags: OptionSet, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// Fail with `.keyExists` instead of replacing. The C constant is `MDB_NOOVERWRITE`.
    public static let noOverwrite = PutFlags(rawValue: UInt32(MDB_NOOVERWRITE))
    /// Keys arrive in ascending order: a fast append. The C constant is `MDB_APPEND`.
    public static let append = PutFlags(rawValue: UInt32(MDB_APPEND))
}
