import Foundation
package import GranaryLMDB
package import GranaryParsing

/// A blob field's value: data in the store (by content address) or, later, an external URL.
package struct ArtifactBlob: Codable, Sendable, Equatable {
    /// The store blob (64 hex digits) holding the data.
    package var blob: String?
    /// The URL of an external blob (fetched and hashed once when set; never stored here).
    package var url: String?
    package var size: Int?
    package var md5: String?
    package var sha1: String?
    package var sha256: String?
    package var external: Bool
    /// saving while an upload runs, then active.
    package var status: String
    package var contentType: String?

    package init(status: String) {
        self.external = false
        self.status = status
    }
}

/// A Glare artifact as stored: base fields, the type's own fields, its blobs and folders.
package struct ArtifactRecord: Codable, Sendable, Equatable {
    package var id: String
    package var typeName: String
    package var name: String
    /// The normalized semantic version (build metadata kept).
    package var version: String
    package var owner: String?
    package var visibility: String
    package var status: ArtifactStatus
    package var description: String?
    package var tags: [String]
    package var metadata: [String: String]
    /// The type's non-blob fields that are set.
    package var fields: [String: JSONValue]
    package var blobs: [String: ArtifactBlob]
    package var folders: [String: [String: ArtifactBlob]]
    package var createdAt: Int
    package var updatedAt: Int
    package var activatedAt: Int?

    package init(id: String, typeName: String, name: String, version: String, owner: String?, now: Int) {
        self.id = id
        self.typeName = typeName
        self.name = name
        self.version = version
        self.owner = owner
        self.visibility = "private"
        self.status = .drafted
        self.tags = []
        self.metadata = [:]
        self.fields = [:]
        self.blobs = [:]
        self.folders = [:]
        self.createdAt = now
        self.updatedAt = now
    }

    /// Every store blob the artifact holds (blob fields and folder entries).
    package var storeBlobs: [String] {
        (blobs.values.compactMap(\.blob) + folders.values.flatMap { $0.values.compactMap(\.blob) })
    }

    /// Whether an upload into one of its blob slots is in progress.
    package var isSaving: Bool {
        blobs.values.contains { $0.status == "saving" } || folders.values.contains { $0.values.contains { $0.status == "saving" } }
    }

    /// Bytes of the store data its blobs hold (external blobs hold none): what quotas count.
    package var storedBytes: Int {
        blobs.values.filter { $0.blob != nil }.reduce(0) { $0 + ($1.size ?? 0) }
            + folders.values.flatMap(\.values).filter { $0.blob != nil }.reduce(0) { $0 + ($1.size ?? 0) }
    }

    package var semanticVersion: SemanticVersion { SemanticVersion(version) ?? SemanticVersion("0.0.0")! }
}

/// Artifacts in LMDB.
///
/// | database | key | value |
/// |---|---|---|
/// | `artifacts` | artifact id | ``ArtifactRecord`` as JSON |
/// | `artifacts.by_created` | type, 0x00, created_at (8 bytes big-endian), id | empty |
/// | `artifacts.by_name` | type, 0x00, name, 0x00, version order key, 0x00, id | empty |
/// | `artifacts.unique` | type, 0x00, name, 0x00, version, 0x00, scope (`public`, or `private` 0x00 owner) | artifact id |
/// | `artifacts.usage` | owner, 0x00, type (empty: all types) | artifact count, stored bytes (8 bytes big-endian each) |
/// | `artifacts.quotas` | project, 0x00, quota name | value (8 bytes big-endian, two's complement; -1 unlimited) |
/// | `artifacts.by_value` | see ``walkValues(type:field:only:descending:in:_:)`` | visibility, owner |
/// | `artifacts.meta` | `values` | the layout of `artifacts.by_value` built (version and sortable fields) |
///
/// `artifacts.unique` makes the (type, name, version, owner) rule in the private scope and the
/// (type, name, version) rule in the public scope part of the write transaction: the second of
/// two concurrent creates finds the key taken, with no list-then-insert race.
/// `artifacts.by_name` lists one name's versions in semver order (version ranges, latest).
package struct ArtifactIndex: Sendable {
    let artifacts: Database
    let byCreated: Database
    let byName: Database
    let unique: Database
    let usageDB: Database
    let quotas: Database
    let byValue: Database
    let meta: Database
    /// Each type's own sortable fields, indexed in `artifacts.by_value` besides the base ones.
    let sortableFields: [String: [String]]
    /// The `artifacts.by_value` layout this code writes, with the sortable fields it holds: a
    /// data directory written with another (older code, or types changed since) is rebuilt at open.
    let valuesVersion: String

    /// Opens the artifact databases, (re)building `artifacts.by_value` when a data directory
    /// predates it or the types' sortable fields changed (in one write transaction).
    package init(environment: Environment, sortableFields: [String: [String]] = [:]) throws {
        self.sortableFields = sortableFields.filter { !$0.value.isEmpty }
        valuesVersion = (["2"] + self.sortableFields.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.sorted().joined(separator: ","))" })
            .joined(separator: ";")
        artifacts = try environment.openDatabase("artifacts")
        byCreated = try environment.openDatabase("artifacts.by_created")
        byName = try environment.openDatabase("artifacts.by_name")
        unique = try environment.openDatabase("artifacts.unique")
        usageDB = try environment.openDatabase("artifacts.usage")
        quotas = try environment.openDatabase("artifacts.quotas")
        byValue = try environment.openDatabase("artifacts.by_value")
        meta = try environment.openDatabase("artifacts.meta")
        let version = Array(valuesVersion.utf8)
        let keysVersion = Array(Self.keysVersion.utf8)
        let built = try environment.read { txn in (try txn.value(meta, Array("values".utf8)), try txn.value(meta, Array("keys".utf8))) }
        if built.0 != version || built.1 != keysVersion {
            try environment.write { txn in
                if try txn.value(meta, Array("values".utf8)) != version { try rebuildValues(in: txn) }
                if try txn.value(meta, Array("keys".utf8)) != keysVersion { try rebuildNameKeys(in: txn) }
            }
        }
    }

    /// The layout of `artifacts.by_name` and `artifacts.unique`: "2" encodes names and owners as
    /// ``KeySegment``s (long ones hashed); a data directory from before is rebuilt at open.
    static let keysVersion = "2"

    /// Writes `artifacts.by_name` and `artifacts.unique` anew from the records.
    func rebuildNameKeys(in txn: borrowing WriteTransaction) throws {
        try txn.removeAll(byName)
        try txn.removeAll(unique)
        try txn.forEach(artifacts) { _, value in
            let artifact = try JSONDecoderBox.decode(ArtifactRecord.self, Array(value))
            try txn.put(byName, Self.nameKey(artifact), [])
            try txn.put(unique, Self.uniqueKey(artifact), Array(artifact.id.utf8))
            return true
        }
        try txn.put(meta, Array("keys".utf8), Array(Self.keysVersion.utf8))
    }

    static func usageKey(_ owner: String, _ type: String?) -> [UInt8] { KeySegment.encode(owner) + [0] + Array((type ?? "").utf8) }

    /// How many artifacts `owner` has and the bytes they store, of `type` or of all types.
    package func usage(owner: String, type: String?, in txn: borrowing Transaction<some TransactionAccess>) throws -> (count: Int, bytes: Int) {
        guard let value = try txn.value(usageDB, Self.usageKey(owner, type)), value.count == 16 else { return (0, 0) }
        let count = value[0..<8].reduce(0) { $0 << 8 | Int($1) }
        let bytes = value[8..<16].reduce(0) { $0 << 8 | Int($1) }
        return (count, bytes)
    }

    /// Moves the usage counters of the artifact's owner by one record and its bytes.
    func account(_ artifact: ArtifactRecord, count: Int, bytes: Int, in txn: borrowing WriteTransaction) throws {
        guard let owner = artifact.owner, count != 0 || bytes != 0 else { return }
        for type in [artifact.typeName, nil] {
            let (oldCount, oldBytes) = try usage(owner: owner, type: type, in: txn)
            let value = [UInt64(max(0, oldCount + count)).bigEndian, UInt64(max(0, oldBytes + bytes)).bigEndian]
            try txn.put(usageDB, Self.usageKey(owner, type), value.withUnsafeBytes(Array.init))
        }
    }

    /// The quotas set for `project` (name → value).
    package func quotas(of project: String, in txn: borrowing Transaction<some TransactionAccess>) throws -> [String: Int] {
        let prefix = Array(project.utf8) + [0]
        var result: [String: Int] = [:]
        try txn.forEach(quotas, from: prefix) { key, value in
            guard key.starts(with: prefix), value.count == 8 else { return false }
            result[String(decoding: key.dropFirst(prefix.count), as: UTF8.self)] = Int(Int64(bitPattern: value.reduce(0) { $0 << 8 | UInt64($1) }))
            return true
        }
        return result
    }

    /// Every project that has quotas set.
    package func quotaProjects(in txn: borrowing Transaction<some TransactionAccess>) throws -> [String] {
        var projects: [String] = []
        try txn.forEach(quotas) { key, _ in
            if let cut = key.firstIndex(of: 0) {
                let project = String(decoding: key[..<cut], as: UTF8.self)
                if projects.last != project { projects.append(project) }
            }
            return true
        }
        return projects
    }

    /// Replaces all quotas of `project`.
    package func setQuotas(_ values: [String: Int], of project: String, in txn: borrowing WriteTransaction) throws {
        for name in try quotas(of: project, in: txn).keys { try txn.delete(quotas, Array(project.utf8) + [0] + Array(name.utf8)) }
        for (name, value) in values {
            let bytes = withUnsafeBytes(of: UInt64(bitPattern: Int64(value)).bigEndian, Array.init)
            try txn.put(quotas, Array(project.utf8) + [0] + Array(name.utf8), bytes)
        }
    }

    static func typePrefix(_ type: String) -> [UInt8] { Array(type.utf8) + [0] }

    static func createdKey(_ a: ArtifactRecord) -> [UInt8] {
        typePrefix(a.typeName) + withUnsafeBytes(of: UInt64(max(0, a.createdAt)).bigEndian, Array.init) + Array(a.id.utf8)
    }

    static func namePrefix(_ type: String, _ name: String) -> [UInt8] { typePrefix(type) + KeySegment.encode(name) + [0] }

    static func nameKey(_ a: ArtifactRecord) -> [UInt8] {
        namePrefix(a.typeName, a.name) + a.semanticVersion.orderKey + [0] + Array(a.id.utf8)
    }

    static func uniqueKey(_ a: ArtifactRecord) -> [UInt8] {
        let scope: [UInt8] = a.visibility == "public" ? Array("public".utf8) : Array("private".utf8) + [0] + KeySegment.encode(a.owner ?? "")
        return namePrefix(a.typeName, a.name) + Array(a.version.utf8) + [0] + scope
    }

    package func get(_ id: String, in txn: borrowing Transaction<some TransactionAccess>) throws -> ArtifactRecord? {
        try txn.value(artifacts, Array(id.utf8)).map { try JSONDecoderBox.decode(ArtifactRecord.self, $0) }
    }

    /// Stores `artifact`, moving its index entries from `previous`.
    /// - Throws: ``UniquenessConflict`` when another artifact holds its (type, name, version)
    ///   in its scope.
    package func put(_ artifact: ArtifactRecord, previous: ArtifactRecord?, in txn: borrowing WriteTransaction) throws {
        let newUnique = Self.uniqueKey(artifact)
        if let previous {
            let oldUnique = Self.uniqueKey(previous)
            if oldUnique != newUnique {
                guard try txn.insert(unique, newUnique, Array(artifact.id.utf8)) else { throw UniquenessConflict(artifact: artifact) }
                try txn.delete(unique, oldUnique)
            }
            if Self.nameKey(previous) != Self.nameKey(artifact) {
                try txn.delete(byName, Self.nameKey(previous))
                try txn.put(byName, Self.nameKey(artifact), [])
            }
        } else {
            guard try txn.insert(unique, newUnique, Array(artifact.id.utf8)) else { throw UniquenessConflict(artifact: artifact) }
            try txn.put(byCreated, Self.createdKey(artifact), [])
            try txn.put(byName, Self.nameKey(artifact), [])
        }
        try txn.put(artifacts, Array(artifact.id.utf8), try JSONDecoderBox.encode(artifact))
        try updateValues(of: artifact, previous: previous, in: txn)
        try account(artifact, count: previous == nil ? 1 : 0, bytes: artifact.storedBytes - (previous?.storedBytes ?? 0), in: txn)
    }

    /// Whether the public scope already holds (type, name, version) (publishing must not clash).
    package func publicTaken(_ artifact: ArtifactRecord, in txn: borrowing Transaction<some TransactionAccess>) throws -> Bool {
        var probe = artifact
        probe.visibility = "public"
        return try txn.contains(unique, Self.uniqueKey(probe))
    }

    package func delete(_ artifact: ArtifactRecord, in txn: borrowing WriteTransaction) throws {
        try account(artifact, count: -1, bytes: -artifact.storedBytes, in: txn)
        try txn.delete(artifacts, Array(artifact.id.utf8))
        try txn.delete(byCreated, Self.createdKey(artifact))
        try txn.delete(byName, Self.nameKey(artifact))
        try txn.delete(unique, Self.uniqueKey(artifact))
        try updateValues(of: nil, previous: artifact, in: txn)
    }

    /// Artifacts of `type`, newest first (every type, in id order, when nil); `body` returns false to stop.
    package func newestFirst(
        type: String?, in txn: borrowing Transaction<some TransactionAccess>, _ body: (ArtifactRecord) throws -> Bool
    ) throws {
        guard let type else {
            try txn.forEach(artifacts) { _, value in try body(try JSONDecoderBox.decode(ArtifactRecord.self, Array(value))) }
            return
        }
        let prefix = Self.typePrefix(type)
        var ids: [String] = []
        try txn.forEach(byCreated, from: prefix) { key, _ in
            guard key.starts(with: prefix) else { return false }
            ids.append(String(decoding: key.dropFirst(prefix.count + 8), as: UTF8.self))
            return true
        }
        for id in ids.reversed() {
            guard let artifact = try get(id, in: txn) else { continue }
            guard try body(artifact) else { return }
        }
    }

    /// Per (type, name) of `type` (every type when nil), the highest version that `admit`
    /// accepts (equal precedence: the larger id), walking `artifacts.by_name` down from each
    /// name's highest version: records are read only until each name has its answer.
    package func latestVersions(
        type: String?, in txn: borrowing Transaction<some TransactionAccess>, admit: (ArtifactRecord) throws -> Bool
    ) throws -> [ArtifactRecord] {
        let prefix = type.map(Self.typePrefix) ?? []
        var found: [ArtifactRecord] = []
        try txn.withCursor(byName) { cursor in
            var entry = prefix.isEmpty ? try cursor.last() : try cursor.seek(atOrBefore: prefix + [0xFF])
            while let current = entry, current.key.starts(with: prefix) {
                let key = Array(current.key)
                // type 0x00 name 0x00: the (type, name) group this entry is in.
                guard let typeEnd = key.firstIndex(of: 0), let nameEnd = key[(typeEnd + 1)...].firstIndex(of: 0),
                    let idStart = key.lastIndex(of: 0)
                else { break }
                let id = String(decoding: key[(idStart + 1)...], as: UTF8.self)
                if let artifact = try get(id, in: txn), try admit(artifact) {
                    found.append(artifact)
                    // On to the previous name: the last key before this group's prefix.
                    entry = try cursor.seek(atOrBefore: Array(key[...nameEnd]))
                } else {
                    entry = try cursor.previous()
                }
            }
        }
        return found
    }

    /// The artifacts of one (type, name), in version order (lowest first).
    package func versions(
        type: String, name: String, in txn: borrowing Transaction<some TransactionAccess>
    ) throws -> [ArtifactRecord] {
        let prefix = Self.namePrefix(type, name)
        var ids: [String] = []
        try txn.forEach(byName, from: prefix) { key, _ in
            guard key.starts(with: prefix) else { return false }
            // The id follows the last 0x00 (order keys end with 0x00 or 0x02, ids have no 0x00).
            if let cut = key.lastIndex(of: 0) { ids.append(String(decoding: key[(cut + 1)...], as: UTF8.self)) }
            return true
        }
        return try ids.compactMap { try get($0, in: txn) }
    }
}

/// Another artifact already holds this (type, name, version) in the scope.
package struct UniquenessConflict: Error, Sendable {
    package let artifact: ArtifactRecord
}
