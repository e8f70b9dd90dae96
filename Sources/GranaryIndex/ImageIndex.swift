package import GranaryLMDB

/// The images keyspace in LMDB.
///
/// | database | key | value |
/// |---|---|---|
/// | `images` | image id (UTF-8, lower-case UUID) | ``ImageRecord`` as JSON |
/// | `images.by_created` | created_at u64 BE + image id | empty: the default list order |
/// | `images.by_term` | term prefix + created_at u64 BE + image id | empty: one entry per ``ListTerm`` of the image |
/// | `images.term_counts` | term prefix | u64 BE: how many images carry the term |
/// | `images.by_sort` | sort field byte + value encoding + created_at u64 BE + image id | empty: lists sorted by another column (see `ImageIndex+Sort`) |
/// | `images.meta` | `terms`, `sort` | the versions of `images.by_term` (`2`) and `images.by_sort` (`1`) built |
///
/// A term prefix is the field byte (status 1, visibility 2, name 3, tag 4, owner 5, no owner 6,
/// member 7: a row in `image.members` for that project, whatever its answer),
/// the value's length as u16 BE and the value's UTF-8 bytes, cut to ``maxTermBytes`` so every
/// key stays under LMDB's 511-byte limit. Within one term the entries sort like
/// `images.by_created`, so "images with this name (status, tag, …) newest first from a marker"
/// is one seek and a walk; a missing name is indexed as the empty name, which `name=` matches.
/// Values cut to the same prefix share entries, so a term walk yields candidates: callers check
/// each record against the full query. The counts let a list pick its most selective term.
/// One database for every column, rather than one per column, so a union of terms of different
/// columns (a non-admin's view: public, own, unowned, shared with me) is one cursor's merge and a
/// new column is a new field byte.
///
/// `put` and `delete` keep every index in step with the record in the caller's transaction
/// (member terms: ``addMember(_:to:in:)`` and ``removeMember(_:from:in:)``); opening builds
/// `images.by_term` once from `images` and `image.members` (and `images.by_sort` and
/// `images.owner_bytes` from `images`) when a data directory predates it.
package struct ImageIndex: Sendable {
    let images: Database
    let byCreated: Database
    let byTerm: Database
    let bySort: Database
    let termCounts: Database
    /// Bytes of image data per owner (``bytes(of:in:)``).
    let ownerBytes: Database
    let meta: Database
    /// ``MemberIndex``'s table, read for the member terms of an image.
    let members: Database

    /// Longest term value kept in a key, in bytes (longer ones are cut, see the type's notes).
    static let maxTermBytes = 256
    /// The `images.by_term` layout this code writes; an older or missing one is rebuilt at open.
    static let termsVersion = "2"

    /// Opens the images databases, building `images.by_term` from `images` when it is missing
    /// (a data directory from before it existed), in one write transaction.
    package init(environment: Environment) throws {
        images = try environment.openDatabase("images")
        byCreated = try environment.openDatabase("images.by_created")
        byTerm = try environment.openDatabase("images.by_term")
        termCounts = try environment.openDatabase("images.term_counts")
        meta = try environment.openDatabase("images.meta")
        members = try environment.openDatabase(MemberIndex.databaseName)
        bySort = try environment.openDatabase("images.by_sort")
        ownerBytes = try environment.openDatabase("images.owner_bytes")
        let version = Array(Self.termsVersion.utf8)
        let sortVersion = Array(Self.sortVersion.utf8)
        let usageVersion = Array(Self.usageVersion.utf8)
        let built = try environment.read { txn in
            (try txn.value(meta, Array("terms".utf8)), try txn.value(meta, Array("sort".utf8)), try txn.value(meta, Array("usage".utf8)))
        }
        if built.0 != version || built.1 != sortVersion || built.2 != usageVersion {
            try environment.write { txn in
                // Checked again under the writer lock: another process may have built them meanwhile.
                if try txn.value(meta, Array("terms".utf8)) != version { try rebuildTerms(in: txn) }
                if try txn.value(meta, Array("sort".utf8)) != sortVersion { try rebuildSortIndex(in: txn) }
                if try txn.value(meta, Array("usage".utf8)) != usageVersion { try rebuildUsage(in: txn) }
            }
        }
    }

    /// Drops and refills `images.by_term` and its counts from the `images` and `image.members`
    /// tables: what opening an older data directory does (public for repairs and benchmarks).
    package func rebuildTerms(in txn: borrowing WriteTransaction) throws {
        try txn.removeAll(byTerm)
        try txn.removeAll(termCounts)
        try txn.forEach(images) { _, value in
            try updateTerms(of: try ImageRecord.decode(value), previous: nil, in: txn)
            return true
        }
        try txn.put(meta, Array("terms".utf8), Array(Self.termsVersion.utf8))
    }

    /// The image `id`, or nil.
    package func get(_ id: String, in txn: borrowing Transaction<some TransactionAccess>) throws -> ImageRecord? {
        try Array(id.utf8).withUnsafeBytes { key in try txn.withValue(images, key) { try ImageRecord.decode($0) } }
    }

    /// Stores `record`, keeping the secondary indexes in step with `previous` (nil for a new image).
    package func put(_ record: ImageRecord, previous: ImageRecord?, in txn: borrowing WriteTransaction) throws {
        if let previous, !ImageLifecycle.allows(previous.status, to: record.status) {
            throw ImageLifecycle.InvalidTransition(image: record.id, from: previous.status, to: record.status)
        }
        if let previous, previous.createdAt != record.createdAt {
            try txn.delete(byCreated, Self.createdKey(previous))
        }
        try txn.put(images, Array(record.id.utf8), try record.encoded())
        try txn.put(byCreated, Self.createdKey(record), [])
        try updateTerms(of: record, previous: previous, in: txn)
        try updateSortEntries(of: record, previous: previous, in: txn)
        try updateUsage(of: record, previous: previous, in: txn)
    }

    /// Removes `record` and its index entries.
    package func delete(_ record: ImageRecord, in txn: borrowing WriteTransaction) throws {
        try txn.delete(images, Array(record.id.utf8))
        try txn.delete(byCreated, Self.createdKey(record))
        for term in try terms(of: record, in: txn) { try removeTerm(term, of: record, in: txn) }
        try deleteSortEntries(of: record, in: txn)
        try updateUsage(of: nil, previous: record, in: txn)
    }

    /// Indexes `record` as shared with `project`: call it with ``MemberIndex/put(_:in:)`` of a
    /// new member, so the images shared with a project are one range (`.member(project)`).
    package func addMember(_ project: String, to record: ImageRecord, in txn: borrowing WriteTransaction) throws {
        if try txn.insert(byTerm, ListTerm.member(project).prefix + Self.suffix(record), []) {
            try addCount(ListTerm.member(project).prefix, 1, in: txn)
        }
    }

    /// Undoes ``addMember(_:to:in:)``: call it with ``MemberIndex/delete(_:_:in:)``.
    package func removeMember(_ project: String, from record: ImageRecord, in txn: borrowing WriteTransaction) throws {
        try removeTerm(.member(project), of: record, in: txn)
    }

    // MARK: Term entries

    /// Adds the entries `record` has and `previous` lacked, and removes the ones it lost (all of
    /// them move when created_at changes, since it is part of every key).
    func updateTerms(of record: ImageRecord, previous: ImageRecord?, in txn: borrowing WriteTransaction) throws {
        var old: Set<ListTerm> = []
        var new: Set<ListTerm>
        if let previous, previous.createdAt == record.createdAt {
            // Member terms stay put: only `addMember` and `removeMember` change them.
            old = Self.terms(of: previous)
            new = Self.terms(of: record)
            let kept = old.intersection(new)
            old.subtract(kept)
            new.subtract(kept)
        } else {
            if let previous { old = try terms(of: previous, in: txn) }
            new = try terms(of: record, in: txn)
        }
        if let previous {
            for term in old { try removeTerm(term, of: previous, in: txn) }
        }
        for term in new where try txn.insert(byTerm, term.prefix + Self.suffix(record), []) {
            try addCount(term.prefix, 1, in: txn)
        }
    }

    func removeTerm(_ term: ListTerm, of record: ImageRecord, in txn: borrowing WriteTransaction) throws {
        if try txn.delete(byTerm, term.prefix + Self.suffix(record)) { try addCount(term.prefix, -1, in: txn) }
    }

    func addCount(_ prefix: [UInt8], _ delta: Int, in txn: borrowing WriteTransaction) throws {
        let now = try count(prefix: prefix, in: txn) + delta
        if now <= 0 {
            try txn.delete(termCounts, prefix)
        } else {
            try withUnsafeBytes(of: UInt64(now).bigEndian) { value in
                try prefix.withUnsafeBytes { key in try txn.put(termCounts, key, value) }
            }
        }
    }

    func count(prefix: [UInt8], in txn: borrowing Transaction<some TransactionAccess>) throws -> Int {
        let stored = try prefix.withUnsafeBytes { key in
            try txn.withValue(termCounts, key) { value in value.count == 8 ? value.loadUnaligned(as: UInt64.self).bigEndian : 0 }
        }
        return Int(stored ?? 0)
    }

    /// The terms an image is indexed under, its members' included.
    func terms(of record: ImageRecord, in txn: borrowing Transaction<some TransactionAccess>) throws -> Set<ListTerm> {
        var terms = Self.terms(of: record)
        let prefix = MemberIndex.prefix(record.id)
        try txn.forEach(members, from: prefix) { key, _ in
            guard key.starts(with: prefix) else { return false }
            terms.insert(.member(String(decoding: key[prefix.count...], as: UTF8.self)))
            return true
        }
        return terms
    }

    /// The terms of the record's own columns.
    static func terms(of record: ImageRecord) -> Set<ListTerm> {
        var terms: Set<ListTerm> = [
            .status(record.status.rawValue), .visibility(record.visibility.rawValue), .name(record.name ?? ""), .owner(record.owner),
        ]
        for tag in record.tags { terms.insert(.tag(tag)) }
        return terms
    }

    // MARK: Reading

    /// How many images carry `term` (every image when nil): one lookup, for choosing an index.
    package func count(_ term: ListTerm?, in txn: borrowing Transaction<some TransactionAccess>) throws -> Int {
        guard let term else { return try txn.count(images) }
        return try count(prefix: term.prefix, in: txn)
    }

    /// Images newest first, starting after `marker` (an image id), calling `visit` until it
    /// returns false.
    package func newestFirst<Access: TransactionAccess>(
        after marker: ImageRecord?,
        in txn: borrowing Transaction<Access>,
        _ visit: (ImageRecord) throws -> Bool
    ) throws {
        try walk(nil, descending: true, after: marker, in: txn, visit)
    }

    /// The images carrying any of `terms` (every image when nil), each once, in created_at and id
    /// order (descending: newest first, as Glance's default list), strictly after `marker`'s
    /// place in that order, calling `visit` until it returns false.
    ///
    /// Each term is a range of `images.by_term`; several are merged on their (created_at, id)
    /// suffix, so a page costs one seek per term and per row, whatever the number of images.
    package func walk<Access: TransactionAccess>(
        _ terms: [ListTerm]?,
        descending: Bool,
        after marker: ImageRecord?,
        in txn: borrowing Transaction<Access>,
        _ visit: (ImageRecord) throws -> Bool
    ) throws {
        try walk(matchingAll: terms.map { [$0] }, descending: descending, after: marker, in: txn, admit: { _, _ in true }, visit)
    }

    /// ``walk(_:descending:after:in:_:)`` over the images that carry a term of every group in
    /// `groups` (every image when nil): an AND of ORs, for a list with several indexed filters.
    /// The groups are intersected by leapfrogging (each in turn seeks to the entry where the one
    /// before it stopped; put the narrowest first), so a sparse intersection of two large ranges
    /// costs seeks, not a walk of either, and a broad group is sought only when the narrower
    /// ones agree.
    /// `admit` is asked first with the candidate's id and the terms (of all groups) whose ranges
    /// hold it: a false answer skips the candidate without reading its record (a caller that
    /// knows what those terms imply rejects cheaply).
    package func walk<Access: TransactionAccess>(
        matchingAll groups: [[ListTerm]]?,
        descending: Bool,
        after marker: ImageRecord?,
        in txn: borrowing Transaction<Access>,
        admit: (_ id: String, _ matched: [ListTerm]) throws -> Bool,
        _ visit: (ImageRecord) throws -> Bool
    ) throws {
        let unique: [[ListTerm?]] = groups.map { $0.map { Array(Set($0)) } } ?? [[nil]]
        guard !unique.contains(where: \.isEmpty) else { return }  // an empty OR holds nothing
        /// Whether `a` comes before `b` in the walk's order.
        func before(_ a: [UInt8], _ b: [UInt8]) -> Bool { descending ? b.lexicographicallyPrecedes(a) : a.lexicographicallyPrecedes(b) }
        try txn.withCursor(groups == nil ? byCreated : byTerm) { cursor in
            let start = marker.map(Self.suffix)
            var heads = try unique.map { group in
                try group.map { term in
                    let prefix = term?.prefix ?? []
                    return WalkHead(term: term, prefix: prefix, suffix: try Self.step(cursor, prefix, from: start, descending: descending))
                }
            }
            /// The group's next entry: the first of its heads' entries.
            func next(_ group: [WalkHead]) -> [UInt8]? {
                var first: [UInt8]?
                for head in group {
                    guard let suffix = head.suffix else { continue }
                    if let current = first, !before(suffix, current) { continue }
                    first = suffix
                }
                return first
            }
            // Leapfrog: `target` is some group's next entry, so no image before it (and after the
            // last visited) is in that group; each group in turn skips to it. When every group
            // has it, in a row, it is visited.
            guard var target = next(heads[0]) else { return }
            var agreeing = 1
            var g = 0
            while true {
                if agreeing == heads.count {
                    let id = String(decoding: target[8...], as: UTF8.self)
                    let matched = heads.flatMap { group in group.compactMap { $0.suffix == target ? $0.term : nil } }
                    if try admit(id, matched), let record = try get(id, in: txn), try !visit(record) { return }
                    for group in heads.indices {
                        for h in heads[group].indices where heads[group][h].suffix == target {
                            heads[group][h].suffix = try Self.step(cursor, heads[group][h].prefix, from: target, descending: descending)
                        }
                    }
                    guard let first = next(heads[0]) else { return }
                    (target, agreeing, g) = (first, 1, 0)
                    continue
                }
                g = (g + 1) % heads.count
                for h in heads[g].indices {
                    if let suffix = heads[g][h].suffix, before(suffix, target) {
                        heads[g][h].suffix = try Self.step(cursor, heads[g][h].prefix, from: target, descending: descending, inclusive: true)
                    }
                }
                guard let first = next(heads[g]) else { return }
                if first == target {
                    agreeing += 1
                } else {
                    (target, agreeing) = (first, 1)
                }
            }
        }
    }

    /// One term's range in a walk, and the suffix of its entry the walk is at (nil: past its end).
    private struct WalkHead {
        var term: ListTerm?
        var prefix: [UInt8]
        var suffix: [UInt8]?
    }

    /// The (created_at, id) suffix of the entry next to `position` (exclusive unless `inclusive`;
    /// from the end when nil) within `prefix`'s range, or nil when the range has no more entries.
    static func step<Access: TransactionAccess>(
        _ cursor: borrowing Cursor<Access>,
        _ prefix: [UInt8],
        from position: [UInt8]?,
        descending: Bool,
        inclusive: Bool = false
    ) throws -> [UInt8]? {
        var entry: Cursor<Access>.Entry?
        if descending {
            // Above every key in the range: created_at bytes and UUID characters are all below 0xFF.
            let key = prefix + (position ?? [UInt8](repeating: 0xFF, count: 10))
            entry = try cursor.seek(atOrBefore: key)
            if !inclusive, let current = entry, current.key.elementsEqual(key) { entry = try cursor.previous() }
        } else {
            let key = prefix + (position ?? [])
            // LMDB refuses an empty key: the whole of `images.by_created` starts at its first entry.
            entry = try key.isEmpty ? cursor.first() : cursor.seek(atOrAfter: key)
            if !inclusive, position != nil, let current = entry, current.key.elementsEqual(key) { entry = try cursor.next() }
        }
        guard let found = entry, found.key.count >= prefix.count + 8, found.key.starts(with: prefix) else { return nil }
        return Array(found.key[prefix.count...])
    }

    static func suffix(_ record: ImageRecord) -> [UInt8] { createdKey(record) }

    static func createdKey(_ record: ImageRecord) -> [UInt8] {
        var key: [UInt8] = []
        withUnsafeBytes(of: UInt64(record.createdAt).bigEndian) { key.append(contentsOf: $0) }
        key.append(contentsOf: record.id.utf8)
        return key
    }
}

/// One value of one indexed column: an `images.by_term` range.
package enum ListTerm: Sendable, Hashable {
    case status(String)
    case visibility(String)
    /// A missing name is indexed as "" (Glance's `name=` filter matches it).
    case name(String)
    case tag(String)
    /// nil: images without owner.
    case owner(String?)
    /// Shared with this project (an `image.members` row, whatever its answer).
    case member(String)

    /// Field byte, value length (u16 BE) and value bytes, cut to ``ImageIndex/maxTermBytes``.
    var prefix: [UInt8] {
        let (field, value): (UInt8, String) =
            switch self {
            case .status(let v): (1, v)
            case .visibility(let v): (2, v)
            case .name(let v): (3, v)
            case .tag(let v): (4, v)
            case .owner(let v?): (5, v)
            case .owner(nil): (6, "")
            case .member(let v): (7, v)
            }
        let bytes = value.utf8.prefix(ImageIndex.maxTermBytes)
        return [field, UInt8(bytes.count >> 8), UInt8(bytes.count & 0xFF)] + bytes
    }
}
