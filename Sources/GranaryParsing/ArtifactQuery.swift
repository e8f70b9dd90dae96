/// A parsed artifact list request (Glare's `glare/api/v1/resource.py` list parameters): filters `field=[and:][op:]value`
/// (repeatable, e.g. `version=gte:1.0&version=lt:2.0`), `version=latest`, `tags` (all of them)
/// and `tags-any`, `sort=key[:dir],…`, `limit` (default 25, at most 1000) and `marker`.
package struct ArtifactQuery: Sendable {
    package struct Filter: Sendable {
        package var field: String
        package var op: String
        package var value: String
        /// A `like` filter's pattern, compiled once per request.
        package var pattern: LikePattern?
    }

    /// What a type says of one of its own fields: the filter operators it takes and whether
    /// lists may sort by it (nil: the type has no such field).
    package struct FieldRules: Sendable {
        package var operators: [String]
        package var sortable: Bool
        package init(operators: [String], sortable: Bool) {
            self.operators = operators
            self.sortable = sortable
        }
    }

    package var filters: [Filter] = []
    package var latest = false
    package var allTags: [String] = []
    package var anyTags: [String] = []
    package var sort: [(key: String, descending: Bool)] = []
    package var limit = 25
    package var marker: String?

    package static let baseFilterFields: [String: [String]] = [
        "name": ["eq", "neq", "in", "like"], "version": ["eq", "neq", "in", "gt", "gte", "lt", "lte"], "status": ["eq", "neq", "in"],
        "visibility": ["eq", "neq", "in"], "owner": ["eq", "neq", "in"], "id": ["eq", "neq", "in"],
        "created_at": ["lt", "gt"], "updated_at": ["lt", "gt"], "activated_at": ["lt", "gt"],
    ]
    package static let baseSortKeys: Set<String> = [
        "name", "version", "status", "visibility", "owner", "id", "created_at", "updated_at", "activated_at",
    ]

    package init(parameters: [(String, String)], fields: (String) -> FieldRules?) throws(BadRequest) {
        // An empty name (`?&limit=20`, as python-glareclient sends) is no parameter, as in Glare's parser.
        for (name, raw) in parameters where !name.isEmpty {
            switch name {
            case "limit":
                guard let limit = DecimalText.integer(raw), limit >= 0 else {
                    throw BadRequest("limit must be a non-negative integer.")
                }
                self.limit = min(limit, 1000)
            case "marker": marker = raw
            case "sort":
                for part in raw.split(separator: ",") {
                    let pieces = part.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
                    guard let key = pieces.first, !key.isEmpty, pieces.count <= 2 else {
                        throw BadRequest("A sort key is field[:asc|desc], not '\(part)'.")
                    }
                    let direction = pieces.count > 1 ? pieces[1] : "desc"  // checked: count tested
                    guard ["asc", "desc"].contains(direction) else { throw BadRequest("Sort direction must be asc or desc.") }
                    guard Self.baseSortKeys.contains(key) || fields(key)?.sortable == true else {
                        throw BadRequest("Cannot sort by \(key): it is not a sortable field.")
                    }
                    sort.append((key, direction == "desc"))
                }
            case "tags", "tags-any":
                let value = raw.hasPrefix("and:") ? String(raw.dropFirst(4)) : raw
                let tags = value.split(separator: ",").map(String.init)
                if name == "tags" { allTags += tags } else { anyTags += tags }
            case "version" where raw == "latest":
                latest = true
            default:
                var value = raw
                if value.hasPrefix("and:") { value.removeFirst(4) }
                if value.hasPrefix("or:") { throw BadRequest("The or: combiner is not supported; use in: for alternatives.") }
                var op = "eq"
                let operators = Self.baseFilterFields[name] ?? fields(name)?.operators
                guard let operators, !operators.isEmpty else { throw BadRequest("Cannot filter by \(name).") }
                if let colon = value.firstIndex(of: ":"), ["eq", "neq", "in", "gt", "gte", "lt", "lte", "like"].contains(String(value[..<colon])) {
                    op = String(value[..<colon])
                    value = String(value[value.index(after: colon)...])
                }
                guard operators.contains(op) else { throw BadRequest("Operator \(op) is not allowed on \(name).") }
                if name == "version" && op != "in", SemanticVersion(value) == nil {
                    throw BadRequest("Version '\(value)' is not a semantic version.")
                }
                var pattern: LikePattern?
                if op == "like" {
                    guard let compiled = LikePattern(value) else {
                        throw BadRequest("A like pattern is at most \(LikePattern.maxLength) characters.")
                    }
                    pattern = compiled
                }
                filters.append(Filter(field: name, op: op, value: value, pattern: pattern))
            }
        }
        sort += [("created_at", true), ("id", false)]
    }
}
