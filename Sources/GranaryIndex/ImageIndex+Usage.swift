package import GranaryLMDB

/// `images.owner_bytes`: per owner, the sum of its images' `size` (uploaded or staged data), as
/// owner term prefix (``ListTerm/owner(_:)``) → u64 big-endian. `put` and `delete` keep it in
/// step in the caller's transaction, so a storage quota is one key read, not a walk of the
/// owner's images; opening builds it once for a data directory that predates it.
extension ImageIndex {
    /// The `images.owner_bytes` layout this code writes; an older or missing one is rebuilt at open.
    static let usageVersion = "1"

    /// Bytes of image data `owner`'s images hold (nil: the images without owner).
    package func bytes(of owner: String?, in txn: borrowing Transaction<some TransactionAccess>) throws -> Int {
        let stored = try ListTerm.owner(owner).prefix.withUnsafeBytes { key in
            try txn.withValue(ownerBytes, key) { value in value.count == 8 ? value.loadUnaligned(as: UInt64.self).bigEndian : 0 }
        }
        return Int(stored ?? 0)
    }

    /// Drops and refills `images.owner_bytes` from `images`.
    package func rebuildUsage(in txn: borrowing WriteTransaction) throws {
        try txn.removeAll(ownerBytes)
        try txn.forEach(images) { _, value in
            try updateUsage(of: try ImageRecord.decode(value), previous: nil, in: txn)
            return true
        }
        try txn.put(meta, Array("usage".utf8), Array(Self.usageVersion.utf8))
    }

    /// Moves `previous`'s size off its owner and `record`'s onto its owner (either may be nil).
    func updateUsage(of record: ImageRecord?, previous: ImageRecord?, in txn: borrowing WriteTransaction) throws {
        if let previous, let size = previous.size, size > 0 { try addBytes(-size, to: previous.owner, in: txn) }
        if let record, let size = record.size, size > 0 { try addBytes(size, to: record.owner, in: txn) }
    }

    private func addBytes(_ delta: Int, to owner: String?, in txn: borrowing WriteTransaction) throws {
        let now = try bytes(of: owner, in: txn) + delta
        let key = ListTerm.owner(owner).prefix
        if now <= 0 {
            try txn.delete(ownerBytes, key)
        } else {
            try withUnsafeBytes(of: UInt64(now).bigEndian) { value in try key.withUnsafeBytes { try txn.put(ownerBytes, $0, value) } }
        }
    }
}
