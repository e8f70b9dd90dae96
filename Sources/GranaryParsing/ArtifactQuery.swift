import Foundation

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

    /// What a type says of one of its own fields: the filter operators it takes, whether lists
    /// may sort by it, and what its filter values must parse as (nil: the type has no such field).
    package struct FieldRules: Sendable {
        package var operators: [String]
        package var sortable: Bool
        package var values: Values
        package init(operators: [String], sortable: Bool, values: Values = .text) {
            self.operators = operators
            self.sortable = sortable
            self.values = values
        }
    }

    /// What a filter value must be, as Glare coerces and validates it before querying (a value
    /// that does not parse is a 400, not an empty list).
    package enum Values: Sendable {
        case text, nonEmptyText, integer, number, boolean, version, date, uuid
        case oneOf([String])

        /// Why `value` is not one, or nil.
        func problem(_ value: String, field: String) -> String? {
            switch self {
            case .text, .boolean: return nil  // Glare reads any text as a boolean (false when not true-ish)
            case .nonEmptyText: return value.isEmpty ? "Field: \(field). Exception: the value must not be empty" : nil
            case .integer:
                return DecimalText.integer(value) == nil ? "Field: \(field). Exception: invalid literal for int() with base 10: '\(value)'" : nil
            case .number:
                return Double(value) == nil ? "Field: \(field). Exception: could not convert string to float: '\(value)'" : nil
            case .version: return SemanticVersion(value) == nil ? "Version '\(value)' is not a semantic version." : nil
            case .date: return ArtifactQuery.isDate(value) ? nil : "Field: \(field). Exception: '\(value)' is not a date and time"
            case .uuid: return UUID(uuidString: value) == nil ? "Field: \(field). Exception: '\(value)' is not a UUID" : nil
            case .oneOf(let allowed):
                return allowed.contains(value) ? nil : "Value must be one of the following: \(allowed.joined(separator: ", "))"
            }
        }
    }

    static let operatorNames: Set<String> = ["eq", "neq", "in", "gt", "gte", "lt", "lte", "like"]

    /// An ISO 8601 date and time (`2026-12-07T10:00:00Z`, with or without the zone).
    static func isDate(_ text: String) -> Bool {
        ISO8601DateFormatter().date(from: text) != nil || ISO8601DateFormatter().date(from: text + "Z") != nil
    }

    package var filters: [Filter] = []
    package var latest = false
    package var allTags: [String] = []
    package var anyTags: [String] = []
    package var sort: [(key: String, descending: Bool)] = []
    package var limit = 25
    package var marker: String?

    package static let baseFilterFields: [String: FieldRules] = [
        "name": FieldRules(operators: ["eq", "neq", "in", "like"], sortable: true, values: .nonEmptyText),
        "version": FieldRules(operators: ["eq", "neq", "in", "gt", "gte", "lt", "lte"], sortable: true, values: .version),
        "status": FieldRules(operators: ["eq", "neq", "in"], sortable: true, values: .oneOf(["drafted", "active", "deactivated", "deleted"])),
        "visibility": FieldRules(operators: ["eq", "neq", "in"], sortable: true, values: .oneOf(["private", "public"])),
        "owner": FieldRules(operators: ["eq", "neq", "in"], sortable: true),
        "id": FieldRules(operators: ["eq", "neq", "in"], sortable: true, values: .uuid),
        "created_at": FieldRules(operators: ["lt", "gt"], sortable: true, values: .date),
        "updated_at": FieldRules(operators: ["lt", "gt"], sortable: true, values: .date),
        "activated_at": FieldRules(operators: ["lt", "gt"], sortable: true, values: .date),
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
                guard let rules = Self.baseFilterFields[name] ?? fields(name) else { throw BadRequest("Unable filter '\(name)'") }
                let supported = "The following filters are supported: \(rules.operators.joined(separator: ", "))"
                // Glare's split_filter_op: `op:value`; a prefix that is no operator is refused,
                // unless the whole value is a date and time (which holds colons).
                if let colon = value.firstIndex(of: ":"), !Self.isDate(value) {
                    op = String(value[..<colon])
                    value = String(value[value.index(after: colon)...])
                    guard Self.operatorNames.contains(op) else { throw BadRequest("Unsupported filter type '\(op)'. \(supported)") }
                }
                guard rules.operators.contains(op) else { throw BadRequest("Unsupported filter type '\(op)'. \(supported)") }
                if op != "like" {
                    var items = op == "in" ? value.split(separator: ",", omittingEmptySubsequences: false).map(String.init) : [value]
                    for item in items {
                        if let problem = rules.values.problem(item, field: name) { throw BadRequest(problem) }
                    }
                    if case .boolean = rules.values {
                        // oslo's bool_from_string: these are true, anything else false.
                        items = items.map { ["1", "t", "true", "on", "y", "yes"].contains($0.lowercased()) ? "true" : "false" }
                        value = items.joined(separator: ",")
                    }
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
