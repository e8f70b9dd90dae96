package import GranaryLMDB
package import GranaryParsing

/// `artifacts.by_value`: every artifact under each value of each field lists filter or sort on,
/// so a list walks one field's entries in value order (a sort) or one value's entries (an `eq`
/// filter, a tag) instead of reading every record.
///
/// Key: scope (the type name, or empty for the `all` listing), 0x00, field, 0x00, value key,
/// created_at (8 bytes big-endian), id, id length (1 byte). Value: 1 when public else 0, then
/// the owner: enough to decide visibility without reading the record.
///
/// Indexed: the base fields lists sort and filter on (name, version, status, visibility, owner,
/// id, created_at, updated_at, activated_at), each tag (as field `tags`) and, under the type
/// scope, the type's own sortable fields (an artifact without one is indexed under no value, as
/// it sorts). Filters on other fields are checked on the records walked.
extension ArtifactIndex {
    /// A field's value as lists compare it, and its order-preserving key: the index and the
    /// in-memory filters and sorts share it, so they cannot disagree.
    package enum IndexedValue: Sendable, Hashable, Comparable {
        case none
        case number(Double)
        case text(String)
        case version(SemanticVersion)

        /// Texts compare as bytes (as keys do), not by Unicode canonical equivalence; versions by
        /// precedence and then build metadata; no value sorts first.
        package static func == (a: Self, b: Self) -> Bool {
            switch (a, b) {
            case (.number(let x), .number(let y)): x == y
            case (.text(let x), .text(let y)): x.utf8.elementsEqual(y.utf8)
            case (.version(let x), .version(let y)): x == y
            case (.none, .none): true
            default: false
            }
        }

        package func hash(into hasher: inout Hasher) {
            switch self {
            case .none: hasher.combine(0)
            case .number(let n): hasher.combine(n)
            case .text(let text): hasher.combine(Array(text.utf8))
            case .version(let version): hasher.combine(version)
            }
        }

        /// Values of different kinds (never in one field) are unordered.
        package static func < (a: Self, b: Self) -> Bool {
            switch (a, b) {
            case (.number(let x), .number(let y)): x < y
            case (.text(let x), .text(let y)): x.utf8.lexicographicallyPrecedes(y.utf8)
            case (.version(let x), .version(let y)): x < y
            case (.none, .none): false
            case (.none, _): true
            default: false
            }
        }

        /// `field` of `a`: base fields by kind; a type's own field as text (strings, booleans)
        /// or number, else no value.
        package static func of(_ a: ArtifactRecord, _ field: String) -> Self {
            switch field {
            case "name": return .text(a.name)
            case "version": return .version(a.semanticVersion)
            case "status": return .text(a.status.rawValue)
            case "visibility": return .text(a.visibility)
            case "owner": return a.owner.map(Self.text) ?? .none
            case "id": return .text(a.id)
            case "type_name": return .text(a.typeName)
            case "created_at": return .number(Double(a.createdAt))
            case "updated_at": return .number(Double(a.updatedAt))
            case "activated_at": return a.activatedAt.map { .number(Double($0)) } ?? .none
            default: return a.fields[field].map(of) ?? .none
            }
        }

        /// A value of a type's own field (or one element of it): text (strings, booleans) or
        /// number, else no value.
        package static func of(_ value: JSONValue) -> Self {
            switch value {
            case .string(let text): .text(text)
            case .number(let n): .number(n)
            case .bool(let flag): .text(flag ? "true" : "false")
            default: .none
            }
        }

        /// Values longer than this are cut (their order among equal prefixes then comes from
        /// the records, which lists re-check anyway); keeps keys under LMDB's 511 bytes.
        package static let maxTextBytes = 200

        var key: [UInt8] {
            switch self {
            case .none:
                return [0x01]
            case .number(let n):
                // IEEE 754 bits made to sort as numbers do: flip the sign bit of positives, all bits of negatives.
                let bits = n.bitPattern
                let ordered = bits & (1 << 63) == 0 ? bits | (1 << 63) : ~bits
                return [0x02] + withUnsafeBytes(of: ordered.bigEndian, Array.init)
            case .text(let text):
                // 0x00 ends the text; 0x00 and 0x01 inside it are escaped keeping the order.
                var key: [UInt8] = [0x03]
                for byte in text.utf8.prefix(Self.maxTextBytes) {
                    if byte <= 0x01 { key += [0x01, byte + 1] } else { key.append(byte) }
                }
                return key + [0x00]
            case .version(let version):
                return [0x04] + version.orderKey
            }
        }
    }

    /// One entry of a walk.
    package struct ValueEntry: Sendable {
        package let id: String
        package let createdAt: Int
        /// The encoded value: entries with equal ones are a group whose order the caller decides.
        package let valueKey: [UInt8]
        package let isPublic: Bool
        package let owner: String?
    }

    package static let baseListFields = ["name", "version", "status", "visibility", "owner", "id", "created_at", "updated_at", "activated_at"]

    /// The keys `artifact` is indexed under, for the type scope and the `all` scope.
    func indexedValues(_ a: ArtifactRecord) -> (type: Set<[UInt8]>, all: Set<[UInt8]>) {
        let base = Self.baseListFields.map { ($0, IndexedValue.of(a, $0)) } + a.tags.map { ("tags", IndexedValue.text($0)) }
        let own = (sortableFields[a.typeName] ?? []).map { ($0, IndexedValue.of(a, $0)) }
        func keys(_ scope: String, _ pairs: [(String, IndexedValue)]) -> Set<[UInt8]> {
            Set(pairs.map { field, value in Self.fieldPrefix(scope, field) + value.key + Self.entrySuffix(a) })
        }
        return (keys(a.typeName, base + own), keys("", base))
    }

    static func fieldPrefix(_ scope: String, _ field: String) -> [UInt8] { Array(scope.utf8) + [0] + Array(field.utf8) + [0] }

    static func entrySuffix(_ a: ArtifactRecord) -> [UInt8] {
        let id = Array(a.id.utf8.prefix(255))
        return withUnsafeBytes(of: UInt64(max(0, a.createdAt)).bigEndian, Array.init) + id + [UInt8(id.count)]
    }

    static func entryValue(_ a: ArtifactRecord) -> [UInt8] { [a.visibility == "public" ? 1 : 0] + Array((a.owner ?? "").utf8) }

    /// Moves `artifact`'s entries from those of `previous` (nil: a new one; `artifact` nil: deleted).
    func updateValues(of artifact: ArtifactRecord?, previous: ArtifactRecord?, in txn: borrowing WriteTransaction) throws {
        let old = previous.map(indexedValues).map { $0.type.union($0.all) } ?? []
        let new = artifact.map(indexedValues).map { $0.type.union($0.all) } ?? []
        let visibilityChanged = artifact.map(Self.entryValue) != previous.map(Self.entryValue)
        for key in old where !new.contains(key) { try txn.delete(byValue, key) }
        if let artifact {
            let value = Self.entryValue(artifact)
            for key in new where visibilityChanged || !old.contains(key) { try txn.put(byValue, key, value) }
        }
    }

    /// Drops and refills `artifacts.by_value` from `artifacts` (a data directory from before it existed).
    package func rebuildValues(in txn: borrowing WriteTransaction) throws {
        try txn.removeAll(byValue)
        try txn.forEach(artifacts) { _, value in
            try updateValues(of: try JSONDecoderBox.decode(ArtifactRecord.self, Array(value)), previous: nil, in: txn)
            return true
        }
        try txn.put(meta, Array("values".utf8), Array(valuesVersion.utf8))
    }

    /// Walks the entries of `field` in `type` (every type when nil) in value order, or only
    /// those whose value is `only` (then in created_at order), ascending or descending, calling
    /// `visit` until it returns false.
    package func walkValues<Access: TransactionAccess>(
        type: String?,
        field: String,
        only: IndexedValue? = nil,
        descending: Bool,
        in txn: borrowing Transaction<Access>,
        _ visit: (ValueEntry) throws -> Bool
    ) throws {
        let fieldPrefix = Self.fieldPrefix(type ?? "", field)
        let prefix = fieldPrefix + (only?.key ?? [])
        try txn.withCursor(byValue) { cursor in
            // Above every key of the range: the bytes after `prefix` (a value's type byte, or
            // created_at's first byte) are all below 0xFF.
            var entry = descending ? try cursor.seek(atOrBefore: prefix + [0xFF]) : try cursor.seek(atOrAfter: prefix)
            while let current = entry, current.key.starts(with: prefix) {
                let key = current.key
                let idLength = Int(key[key.count - 1])
                let idStart = key.count - 1 - idLength
                let created = key[(idStart - 8)..<idStart].reduce(0) { $0 << 8 | Int($1) }
                let value = current.value
                let owner = value.count > 1 ? String(decoding: value[1...], as: UTF8.self) : nil
                let found = ValueEntry(
                    id: String(decoding: key[idStart..<(key.count - 1)], as: UTF8.self), createdAt: created,
                    valueKey: Array(key[fieldPrefix.count..<(idStart - 8)]), isPublic: value.first == 1, owner: owner)
                guard try visit(found) else { return }
                entry = descending ? try cursor.previous() : try cursor.next()
            }
        }
    }
}
