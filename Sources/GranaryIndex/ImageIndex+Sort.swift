import Foundation
package import GranaryLMDB

/// A column a list can be sorted by, other than created_at (`images.by_created` holds that order).
package enum SortColumn: String, Sendable, CaseIterable {
    case name
    case status
    case containerFormat = "container_format"
    case diskFormat = "disk_format"
    case size
    case updatedAt = "updated_at"
    case id

    var field: UInt8 {
        switch self {
        case .name: 1
        case .status: 2
        case .containerFormat: 3
        case .diskFormat: 4
        case .size: 5
        case .updatedAt: 6
        case .id: 7
        }
    }
}

/// `images.by_sort`: for each ``SortColumn``, the images in that column's order, then created_at
/// and id, as a list sorted by one key orders them (Glance breaks ties on created_at and id in the
/// first key's direction). Key: field byte, the value's encoding, created_at u64 BE, image id.
///
/// The value encoding sorts as Swift compares the values (nil first): a missing value is `00`;
/// a number `01` and its bits with the sign flipped, big-endian; a string `01`, its NFC UTF-8
/// bytes (Swift compares strings by their NFC scalars) with `00` written `00 FF`, then `00 00`,
/// or, when it was cut at ``maxSortBytes`` to keep keys under LMDB's limit, `00 01`: the images
/// whose values share a cut prefix sort together, and the reader orders that group itself.
extension ImageIndex {
    /// Longest string value kept in a sort key, in bytes (escaped, at most twice as many).
    static let maxSortBytes = 200
    /// The `images.by_sort` layout this code writes; an older or missing one is rebuilt at open.
    static let sortVersion = "1"

    /// Drops and refills `images.by_sort` from `images`.
    package func rebuildSortIndex(in txn: borrowing WriteTransaction) throws {
        try txn.removeAll(bySort)
        try txn.forEach(images) { _, value in
            let record = try ImageRecord.decode(value)
            for column in SortColumn.allCases { try txn.put(bySort, Self.sortKey(column, record), []) }
            return true
        }
        try txn.put(meta, Array("sort".utf8), Array(Self.sortVersion.utf8))
    }

    /// Moves `record`'s sort entries from where `previous` had them.
    func updateSortEntries(of record: ImageRecord, previous: ImageRecord?, in txn: borrowing WriteTransaction) throws {
        for column in SortColumn.allCases {
            let key = Self.sortKey(column, record)
            if let previous {
                let old = Self.sortKey(column, previous)
                if old == key { continue }
                try txn.delete(bySort, old)
            }
            try txn.put(bySort, key, [])
        }
    }

    func deleteSortEntries(of record: ImageRecord, in txn: borrowing WriteTransaction) throws {
        for column in SortColumn.allCases { try txn.delete(bySort, Self.sortKey(column, record)) }
    }

    /// The images in `column` order (then created_at and id; all descending or all ascending),
    /// strictly after `marker`'s place, calling `visit` until it returns false. Each call hands
    /// over one image, or all the images whose `column` values share a cut prefix (in no
    /// particular order: the caller sorts them and drops those not after the marker).
    package func walkSorted<Access: TransactionAccess>(
        by column: SortColumn,
        descending: Bool,
        after marker: ImageRecord?,
        in txn: borrowing Transaction<Access>,
        _ visit: ([ImageRecord]) throws -> Bool
    ) throws {
        let field = [column.field]
        // Above every key of the field: values start with 00 or 01, created_at's top byte is 00.
        let top = field + [UInt8](repeating: 0xFF, count: 10)
        try txn.withCursor(bySort) { cursor in
            var entry: Cursor<Access>.Entry?
            if let marker {
                let key = Self.sortKey(column, marker)
                let (valueEnd, cut) = Self.parseValue(key)
                if cut {
                    // The marker's group is read whole again; the caller skips up to the marker.
                    let group = Array(key[..<valueEnd])
                    entry = try descending ? cursor.seek(atOrBefore: group + [UInt8](repeating: 0xFF, count: 10)) : cursor.seek(atOrAfter: group)
                } else if descending {
                    entry = try cursor.seek(atOrBefore: key)
                    if let found = entry, found.key.elementsEqual(key) { entry = try cursor.previous() }
                } else {
                    entry = try cursor.seek(atOrAfter: key)
                    if let found = entry, found.key.elementsEqual(key) { entry = try cursor.next() }
                }
            } else {
                entry = try descending ? cursor.seek(atOrBefore: top) : cursor.seek(atOrAfter: field)
            }
            var key = entry.map { Array($0.key) }
            while let current = key, current.first == column.field {
                let (valueEnd, cut) = Self.parseValue(current)
                var ids = [Self.id(in: current, after: valueEnd)]
                key = try (descending ? cursor.previous() : cursor.next()).map { Array($0.key) }
                while cut, let next = key, next.count > valueEnd, next[..<valueEnd].elementsEqual(current[..<valueEnd]) {
                    ids.append(Self.id(in: next, after: valueEnd))
                    key = try (descending ? cursor.previous() : cursor.next()).map { Array($0.key) }
                }
                let records = try ids.compactMap { try get($0, in: txn) }
                if try !visit(records) { return }
            }
        }
    }

    // MARK: Keys

    static func sortKey(_ column: SortColumn, _ record: ImageRecord) -> [UInt8] {
        var key = [column.field]
        switch column {
        case .name: appendString(record.name, to: &key)
        case .status: appendString(record.status.rawValue, to: &key)
        case .containerFormat: appendString(record.containerFormat, to: &key)
        case .diskFormat: appendString(record.diskFormat, to: &key)
        case .id: appendString(record.id, to: &key)
        case .size: appendInteger(record.size, to: &key)
        case .updatedAt: appendInteger(record.updatedAt, to: &key)
        }
        key += createdKey(record)
        return key
    }

    private static func appendInteger(_ value: Int?, to key: inout [UInt8]) {
        guard let value else { return key.append(0) }
        key.append(1)
        withUnsafeBytes(of: (UInt64(bitPattern: Int64(value)) ^ (1 << 63)).bigEndian) { key.append(contentsOf: $0) }
    }

    private static func appendString(_ value: String?, to key: inout [UInt8]) {
        guard let value else { return key.append(0) }
        key.append(1)
        let ascii = value.utf8.allSatisfy { $0 < 0x80 }
        let bytes = ascii ? Array(value.utf8) : Array(value.precomposedStringWithCanonicalMapping.utf8)
        for byte in bytes.prefix(maxSortBytes) {
            key.append(byte)
            if byte == 0 { key.append(0xFF) }
        }
        key += [0, bytes.count > maxSortBytes ? 1 : 0]
    }

    /// Where the value's encoding ends in a sort key, and whether it was cut.
    static func parseValue(_ key: [UInt8]) -> (end: Int, cut: Bool) {
        guard key.count > 1, key[1] == 1 else { return (2, false) }
        switch key[0] {
        case SortColumn.size.field, SortColumn.updatedAt.field: return (10, false)
        default:
            var i = 2
            while i + 1 < key.count {
                if key[i] == 0 {
                    if key[i + 1] != 0xFF { return (i + 2, key[i + 1] == 1) }
                    i += 2
                } else {
                    i += 1
                }
            }
            return (key.count, false)
        }
    }

    private static func id(in key: [UInt8], after valueEnd: Int) -> String {
        String(decoding: key[(valueEnd + 8)...], as: UTF8.self)
    }
}
