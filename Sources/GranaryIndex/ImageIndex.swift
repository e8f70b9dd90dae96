public import GranaryLMDB

/// The images keyspace in LMDB.
///
/// | database | key | value |
/// |---|---|---|
/// | `images` | image id (UTF-8, lower-case UUID) | ``ImageRecord`` as JSON |
/// | `images.by_created` | created_at u64 BE + image id | empty: the default list order |
///
/// Lists walk `images.by_created` from a seek position (the marker), so a page costs index seeks
/// and the rows of that page, not a scan of every image. More secondary indexes (name, status,
/// visibility, tags) join as the list filters are served from indexes.
public struct ImageIndex: Sendable {
    let images: Database
    let byCreated: Database

    public init(environment: Environment) throws {
        images = try environment.openDatabase("images")
        byCreated = try environment.openDatabase("images.by_created")
    }

    /// The image `id`, or nil.
    public func get(_ id: String, in txn: borrowing Transaction<some TransactionAccess>) throws -> ImageRecord? {
        try Array(id.utf8).withUnsafeBytes { key in try txn.withValue(images, key) { try ImageRecord.decode($0) } }
    }

    /// Stores `record`, keeping the secondary indexes in step with `previous` (nil for a new image).
    public func put(_ record: ImageRecord, previous: ImageRecord?, in txn: borrowing WriteTransaction) throws {
        if let previous, previous.createdAt != record.createdAt {
            try txn.delete(byCreated, Self.createdKey(previous))
        }
        try txn.put(images, Array(record.id.utf8), try record.encoded())
        try txn.put(byCreated, Self.createdKey(record), [])
    }

    /// Removes `record` and its index entries.
    public func delete(_ record: ImageRecord, in txn: borrowing WriteTransaction) throws {
        try txn.delete(images, Array(record.id.utf8))
        try txn.delete(byCreated, Self.createdKey(record))
    }

    /// Images newest first, starting after `marker` (an image id), calling `visit` until it
    /// returns false.
    public func newestFirst<Access: TransactionAccess>(
        after marker: ImageRecord?,
        in txn: borrowing Transaction<Access>,
        _ visit: (ImageRecord) throws -> Bool
    ) throws {
        try txn.withCursor(byCreated) { cursor in
            var entry: Cursor<Access>.Entry?
            if let marker {
                entry = try cursor.seek(atOrBefore: Self.createdKey(marker))
                if let current = entry, current.key.elementsEqual(Self.createdKey(marker)) { entry = try cursor.previous() }
            } else {
                entry = try cursor.last()
            }
            while let current = entry {
                let id = String(decoding: current.key[8...], as: UTF8.self)
                if let record = try get(id, in: txn), try !visit(record) { return }
                entry = try cursor.previous()
            }
        }
    }

    static func createdKey(_ record: ImageRecord) -> [UInt8] {
        var key: [UInt8] = []
        withUnsafeBytes(of: UInt64(record.createdAt).bigEndian) { key.append(contentsOf: $0) }
        key.append(contentsOf: record.id.utf8)
        return key
    }
}
