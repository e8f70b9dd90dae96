import Foundation
package import GranaryIndex
import GranaryLMDB
package import GranaryParsing
import GranaryStore

extension ArtifactQuery {
    /// Parses a list request for `type` (nil: every type, `/artifacts/all`, whose one field of
    /// its own is `type_name`).
    package init(parameters: [(String, String)], type: ArtifactType?) throws(BadRequest) {
        try self.init(parameters: parameters) { name in
            guard let type else { return name == "type_name" ? FieldRules(operators: ["like", "eq", "neq", "in"], sortable: true) : nil }
            return type.field(name).map { field in
                let shape: Shape = field.type == .list ? .list : field.type == .dict || field.type == .folder ? .dict : .scalar
                return FieldRules(operators: field.operators, sortable: field.sortable, values: field.filterValues, shape: shape)
            }
        }
    }

    /// The query with `display_type_name` (which records do not hold) read through the
    /// registry: a filter on it becomes `type_name=in:` the types whose display name passes,
    /// and a sort by it is dropped for one type (all its artifacts share it); across types it
    /// is refused.
    func resolvingDisplayTypeNames(_ registry: ArtifactTypeRegistry, all: Bool) throws(BadRequest) -> ArtifactQuery {
        var query = self
        if query.sort.contains(where: { $0.key == "display_type_name" }) {
            if all { throw BadRequest("Sorting all artifacts by display_type_name is not supported: sort by type_name.") }
            query.sort.removeAll { $0.key == "display_type_name" }
        }
        query.filters = filters.map { filter in
            guard filter.field == "display_type_name" else { return filter }
            let names = registry.types.values.filter { Self.test(filter, [.text($0.displayName)]) }.map(\.name).sorted()
            var byType = filter
            (byType.field, byType.op, byType.value, byType.items, byType.pattern) = ("type_name", "in", names.joined(separator: ","), names, nil)
            return byType
        }
        return query
    }

    /// The value a filter or sort compares: the index's, so walks and checks agree.
    typealias Scalar = ArtifactIndex.IndexedValue

    static func scalar(_ artifact: ArtifactRecord, _ field: String) -> Scalar { .of(artifact, field) }

    static func parse(_ text: String, like sample: Scalar) -> Scalar {
        switch sample {
        case .number:
            return Double(text).map(Scalar.number) ?? ISO8601DateFormatter().date(from: text).map { .number($0.timeIntervalSince1970) } ?? .text(text)
        case .version: return SemanticVersion(text).map(Scalar.version) ?? .text(text)
        default: return .text(text)
        }
    }

    func matches(_ artifact: ArtifactRecord) -> Bool {
        guard allTags.allSatisfy(artifact.tags.contains) else { return false }
        guard anyTags.isEmpty || anyTags.contains(where: artifact.tags.contains) else { return false }
        var alternatives: Bool?
        for filter in filters {
            let passes = Self.test(filter, on: artifact)
            if filter.alternative {
                alternatives = (alternatives ?? false) || passes
            } else if !passes {
                return false
            }
        }
        return alternatives ?? true
    }

    /// Whether `artifact` passes one filter: a list passes when any element does, a dict key
    /// filter compares the value under the key (none: no match).
    static func test(_ filter: Filter, on artifact: ArtifactRecord) -> Bool {
        let value: JSONValue? =
            filter.field == "metadata"
            ? .object(artifact.metadata.mapValues(JSONValue.string))
            : artifact.fields[filter.field] ?? artifact.folders[filter.field].map { .object($0.mapValues { _ in .null }) }
        switch filter.subject {
        case .dictKeys:
            guard case .object(let entries)? = value else { return false }
            return filter.items.contains { entries[$0] != nil }
        case .dictValue(let key):
            guard case .object(let entries)? = value, let item = entries[key] else { return false }
            return test(filter, [.of(item)])
        case .value:
            if case .array(let items)? = value { return test(filter, items.map(Scalar.of)) }
            return test(filter, [scalar(artifact, filter.field)])
        }
    }

    static func test(_ filter: Filter, _ values: [Scalar]) -> Bool {
        values.contains { actual in
            let wanted = parse(filter.value, like: actual)
            switch filter.op {
            case "eq": return equal(actual, wanted)
            case "neq": return !equal(actual, wanted)
            case "in": return filter.items.contains { equal(actual, parse($0, like: actual)) }
            case "gt": return wanted < actual
            case "gte": return !(actual < wanted)
            case "lt": return actual < wanted
            case "lte": return !(wanted < actual)
            case "like":
                guard case .text(let text) = actual else { return false }
                return filter.pattern?.matches(text) ?? false
            default: return false
            }
        }
    }

    /// Version filters compare precedence (1.0 = 1.0.0); everything else compares values.
    static func equal(_ a: Scalar, _ b: Scalar) -> Bool {
        if case .version(let x) = a, case .version(let y) = b { return x.hasSamePrecedence(as: y) && (y.build.isEmpty || x.build == y.build) }
        return a == b
    }

    func precedes(_ a: ArtifactRecord, _ b: ArtifactRecord) -> Bool {
        for (key, descending) in sort {
            let x = Self.scalar(a, key)
            let y = Self.scalar(b, key)
            // Neither first (equal, or versions differing only in build metadata): the next key decides.
            if !(x < y) && !(y < x) { continue }
            return descending ? y < x : x < y
        }
        return false
    }
}

/// How a list is read from `artifacts.by_value`.
struct ArtifactListPlan {
    var field: String
    /// Only this value's entries (an `eq` filter or a tag), in creation order; else every value in order.
    var only: ArtifactIndex.IndexedValue?
    var descending: Bool
    /// Whether the walk alone decides which artifacts match (no record needed to count one).
    var walkIsFilter: Bool
}

extension ArtifactQuery {
    /// The base text fields an `eq` filter can walk in the index.
    static let walkableFilters: Set<String> = ["name", "status", "visibility", "owner", "id"]

    /// How to walk `artifacts.by_value` for this query, or nil for `version=latest` (answered
    /// from `artifacts.by_name`).
    var plan: ArtifactListPlan? {
        guard !latest else { return nil }
        let defaultSort = sort.count == 2
        let recordFilters = filters.count + allTags.count + anyTags.count
        if defaultSort {
            // Shorter than the cut, so no longer value shares its key.
            func exact(_ value: String) -> Bool { value.utf8.count < ArtifactIndex.IndexedValue.maxTextBytes }
            if let filter = filters.first(where: { $0.op == "eq" && !$0.alternative && Self.walkableFilters.contains($0.field) }) {
                return ArtifactListPlan(
                    field: filter.field, only: .text(filter.value), descending: true, walkIsFilter: recordFilters == 1 && exact(filter.value))
            }
            if let tag = allTags.first {
                return ArtifactListPlan(field: "tags", only: .text(tag), descending: true, walkIsFilter: recordFilters == 1 && exact(tag))
            }
        }
        // checked: created_at and id always end the sort
        return ArtifactListPlan(field: sort[0].key, only: nil, descending: sort[0].descending, walkIsFilter: recordFilters == 0)
    }
}

/// A list page being filled from index groups, in order: the artifacts up to the marker are
/// counted, then the page is filled, then the rest is counted (for `total_count`).
struct ArtifactPageBuilder {
    let query: ArtifactQuery
    let caller: Caller
    /// Whether the walk alone decides the matches (see ``ArtifactListPlan``).
    let walkIsFilter: Bool
    var page: [ArtifactRecord] = []
    var total = 0
    /// Matches up to and including the marker.
    var skipped = 0
    var passed: Bool

    init(query: ArtifactQuery, caller: Caller, walkIsFilter: Bool) {
        self.query = query
        self.caller = caller
        self.walkIsFilter = walkIsFilter
        passed = query.marker == nil
    }

    /// Whether visible `entries` can be counted without their records: they all match, and
    /// none of them is the marker or goes on the page.
    func canCount(_ entries: [ArtifactIndex.ValueEntry]) -> Bool {
        walkIsFilter && (passed ? page.count >= query.limit : !entries.contains { $0.id == query.marker })
    }

    mutating func count(_ entries: [ArtifactIndex.ValueEntry]) {
        total += entries.count
        if !passed { skipped += entries.count }
    }

    /// Adds matching records, in list order.
    mutating func add(_ records: [ArtifactRecord]) {
        for record in records {
            total += 1
            if !passed {
                skipped += 1
                passed = record.id == query.marker
            } else if page.count < query.limit {
                page.append(record)
            }
        }
    }
}

extension ArtifactCatalog {
    /// A page of the artifacts of `typeName` (every type for `all`) the caller may see (own and
    /// public ones; admins: all), with the number of all that match.
    ///
    /// Read from `artifacts.by_value`: with the default order, an `eq` filter on a base field or a
    /// tag walks just that value's entries newest first; otherwise the first sort key's entries
    /// are walked in its order. Entries of equal value are a group, ordered by the full sort
    /// (records read for it). Visibility comes from the index entry, so only artifacts that
    /// are shown, or that a filter must look at, are read: a page from many costs the page's
    /// records plus a walk over index keys (for `total_count`). `version=latest` walks
    /// `artifacts.by_name` (``listLatest(_:_:caller:)``).
    package func list(_ typeName: String, _ query: ArtifactQuery, caller: Caller) throws -> (artifacts: [ArtifactRecord], total: Int, more: Bool) {
        let all = typeName == ArtifactTypeRegistry.all
        if !all { _ = try registry.type(typeName) }
        let query = try query.resolvingDisplayTypeNames(registry, all: all)
        guard let plan = query.plan else { return try listLatest(typeName, query, caller: caller) }
        // A type's own fields are indexed under the type only (they are not sort keys of `all`).
        guard !all || ArtifactIndex.baseListFields.contains(plan.field) else { return try listByScan(typeName, query, caller: caller) }
        return try store.environment.read { txn in
            var builder = ArtifactPageBuilder(query: query, caller: caller, walkIsFilter: plan.walkIsFilter)
            var group: [ArtifactIndex.ValueEntry] = []
            try index.walkValues(type: all ? nil : typeName, field: plan.field, only: plan.only, descending: plan.descending, in: txn) { entry in
                if let last = group.last, plan.only == nil ? last.valueKey != entry.valueKey : last.createdAt != entry.createdAt {
                    try add(group, to: &builder, in: txn)
                    group.removeAll(keepingCapacity: true)
                }
                group.append(entry)
                return true
            }
            try add(group, to: &builder, in: txn)
            guard builder.passed else { throw Self.notFound(query.marker ?? "") }
            return (builder.page, builder.total, builder.skipped + builder.page.count < builder.total)
        }
    }

    /// Adds a group of index entries of equal value to the page being built: counted from the
    /// entries alone when nothing needs their records, else read, checked and sorted.
    private func add(
        _ group: [ArtifactIndex.ValueEntry], to builder: inout ArtifactPageBuilder, in txn: borrowing Transaction<some TransactionAccess>
    ) throws {
        let visible = group.filter { builder.caller.isAdmin || $0.isPublic || $0.owner == builder.caller.projectID }
        guard !visible.isEmpty else { return }
        if builder.canCount(visible) {
            builder.count(visible)
            return
        }
        let records = try visible.compactMap { try index.get($0.id, in: txn) }.filter { canSee($0, builder.caller) && builder.query.matches($0) }
        builder.add(records.sorted(by: builder.query.precedes))
    }

    /// `version=latest`: each name's highest matching version, from `artifacts.by_name`, then
    /// sorted and paged in memory (one artifact per name).
    func listLatest(_ typeName: String, _ query: ArtifactQuery, caller: Caller) throws -> (artifacts: [ArtifactRecord], total: Int, more: Bool) {
        let all = typeName == ArtifactTypeRegistry.all
        return try store.environment.read { txn in
            let latest = try index.latestVersions(type: all ? nil : typeName, in: txn) { canSee($0, caller) && query.matches($0) }
            return try Self.page(latest.sorted(by: query.precedes), query)
        }
    }

    /// The page of `matching` (sorted) that `query`'s marker and limit select.
    static func page(_ matching: [ArtifactRecord], _ query: ArtifactQuery) throws -> (artifacts: [ArtifactRecord], total: Int, more: Bool) {
        var start = matching.startIndex
        if let marker = query.marker {
            guard let at = matching.firstIndex(where: { $0.id == marker }) else {
                throw notFound(marker)
            }
            start = at + 1
        }
        let page = Array(matching[start...].prefix(query.limit))
        return (page, matching.count, start + page.count < matching.count)
    }

    /// ``list(_:_:caller:)`` by reading every candidate and sorting in memory: the reference the
    /// index paths are tested against.
    func listByScan(_ typeName: String, _ query: ArtifactQuery, caller: Caller) throws -> (artifacts: [ArtifactRecord], total: Int, more: Bool) {
        let all = typeName == ArtifactTypeRegistry.all
        let query = try query.resolvingDisplayTypeNames(registry, all: all)
        return try store.environment.read { txn in
            var candidates: [ArtifactRecord] = []
            let exactName = query.filters.first { $0.field == "name" && $0.op == "eq" && !$0.alternative }?.value
            if let exactName, !all {
                candidates = try index.versions(type: typeName, name: exactName, in: txn)
            } else {
                try index.newestFirst(type: all ? nil : typeName, in: txn) { artifact in
                    candidates.append(artifact)
                    return true
                }
            }
            var matching = candidates.filter { canSee($0, caller) && query.matches($0) }
            if query.latest {
                var best: [String: ArtifactRecord] = [:]
                for artifact in matching {
                    let key = artifact.typeName + "\u{0}" + artifact.name
                    // Highest precedence; of equal ones (build metadata apart) the larger id.
                    if let current = best[key],
                        !(current.semanticVersion < artifact.semanticVersion)
                            && (artifact.semanticVersion < current.semanticVersion || artifact.id < current.id)
                    {
                        continue
                    }
                    best[key] = artifact
                }
                matching = Array(best.values)
            }
            return try Self.page(matching.sorted(by: query.precedes), query)
        }
    }
}
