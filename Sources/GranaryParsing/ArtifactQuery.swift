import Foundation

/// A parsed artifact list request (Glare's `glare/api/v1/resource.py` list parameters): filters `field=[and:][op:]value`
/// (repeatable, e.g. `version=gte:1.0&version=lt:2.0`), `version=latest`, `tags` (all of them)
/// and `tags-any`, `sort=key[:dir],…`, `limit` (default 25, at most 1000) and `marker`.
package struct ArtifactQuery: Sendable {
    package struct Filter: Sendable {
        package var field: String
        package var op: String
        package var value: String
        /// The values an `in` filter lists (api-wg quoting: `"a,b",c` is two), else `[value]`.
        package var items: [String]
        /// A `like` filter's pattern, compiled once per request.
        package var pattern: LikePattern?
        /// What of a dict field is compared (else the field's value, or any element of a list).
        package var subject: Subject = .value
        /// Glare's `or:` combiner: the `or` filters are OR-ed together and AND-ed with the rest.
        package var alternative = false
    }

    package enum Subject: Sendable, Equatable {
        case value
        /// `dict.key=v`: the value under one key.
        case dictValue(key: String)
        /// `dict=eq:key`, `dict=in:k1,k2`: whether the key is there.
        case dictKeys
    }

    /// What a type says of one of its own fields: the filter operators it takes, whether lists
    /// may sort by it, and what its filter values must parse as (nil: the type has no such field).
    package struct FieldRules: Sendable {
        package var operators: [String]
        package var sortable: Bool
        /// What a value (of a list or dict: an element) must parse as.
        package var values: Values
        package var shape: Shape
        package init(operators: [String], sortable: Bool, values: Values = .text, shape: Shape = .scalar) {
            self.operators = operators
            self.sortable = sortable
            self.values = values
            self.shape = shape
        }
    }

    package enum Shape: Sendable { case scalar, list, dict }

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

    /// oslo's `bool_from_string`: these are true, any other text false.
    package static func isTrue(_ text: String) -> Bool { ["1", "t", "true", "on", "y", "yes"].contains(text.lowercased()) }

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
        "metadata": FieldRules(operators: ["eq", "neq", "in"], sortable: false, shape: .dict),
        "display_type_name": FieldRules(operators: ["like", "eq", "neq", "in"], sortable: true),
    ]
    package static let baseSortKeys: Set<String> = [
        "name", "version", "status", "visibility", "owner", "id", "created_at", "updated_at", "activated_at", "display_type_name",
    ]

    package init(parameters: [(String, String)], fields: (String) -> FieldRules?) throws(BadRequest) {
        // An empty name (`?&limit=20`, as python-glareclient sends) is no parameter, as in Glare's parser.
        for (name, raw) in parameters where !name.isEmpty {
            switch name {
            case "limit":
                guard let limit = DecimalText.integer(raw) else { throw BadRequest("Limit param must be an integer.") }
                guard limit >= 0 else { throw BadRequest("Limit param must be positive.") }
                self.limit = min(limit, 1000)
            case "marker": marker = raw
            case "sort":
                for part in raw.split(separator: ",") {
                    // Glare's `key.partition(':')`: the direction is everything after the first colon.
                    let key = String(part.prefix { $0 != ":" })
                    let direction = part.contains(":") ? String(part.drop { $0 != ":" }.dropFirst()) : "desc"
                    guard ["asc", "desc"].contains(direction) else {
                        throw BadRequest("Sort direction must be one of [\"asc\", \"desc\"]. Got \(direction) direction")
                    }
                    guard Self.baseSortKeys.contains(key) || fields(key) != nil else { throw BadRequest("The field \(key) doesn't exist.") }
                    guard Self.baseSortKeys.contains(key) || fields(key)?.sortable == true else {
                        throw BadRequest("The field \(key) is not sortable.")
                    }
                    sort.append((key, direction == "desc"))
                }
            case "tags", "tags-any":
                let value = raw.hasPrefix("and:") ? String(raw.dropFirst(4)) : raw
                guard !value.contains(":") else { throw BadRequest("Tags are filtered without operator") }
                let tags = value.split(separator: ",").map(String.init)
                if name == "tags" { allTags += tags } else { anyTags += tags }
            case "version" where raw == "latest":
                latest = true
            default:
                filters.append(try Self.filter(name, raw, fields: fields))
            }
        }
        sort += [("created_at", true), ("id", false)]
    }

    /// One filter parameter, as Glare's `split_filter_op` and `_parse_filter_values` read it:
    /// `[and:|or:][op:]value`; `dict.key=…` compares the value under a key, `dict=eq:key` or
    /// `dict=in:k1,k2` whether a key is there, a list filter any element. The operator must be
    /// one the field declares (key membership: `eq` or `in`), and each value must parse as the
    /// field's (or element's) values do.
    static func filter(_ name: String, _ raw: String, fields: (String) -> FieldRules?) throws(BadRequest) -> Filter {
        var field = name
        var subject = Subject.value
        if let dot = name.lastIndex(of: ".") {
            field = String(name[..<dot])
            guard (baseFilterFields[field] ?? fields(field))?.shape == .dict else { throw BadRequest("Field \(field) is not Dict") }
            subject = .dictValue(key: String(name[name.index(after: dot)...]))
        }
        guard let rules = baseFilterFields[field] ?? fields(field) else { throw BadRequest("Unable filter '\(name)'") }
        var value = raw
        var alternative = false
        if value.hasPrefix("and:") {
            value.removeFirst(4)
        } else if value.hasPrefix("or:") {
            value.removeFirst(3)
            alternative = true
        }
        var op = "eq"
        // An `op:` prefix, unless the whole value is a date and time (which holds colons).
        if let colon = value.firstIndex(of: ":"), !isDate(value) {
            op = String(value[..<colon])
            value = String(value[value.index(after: colon)...])
        }
        if rules.shape == .dict && subject == .value {
            // Key membership: Glare allows eq and in here whatever the field declares.
            subject = .dictKeys
            guard op == "eq" || op == "in" else {
                throw BadRequest("Unsupported filter type '\(op)'. The following filters are supported: eq, in")
            }
            let items = op == "in" ? try splitQuoted(value) : [value]
            return Filter(field: field, op: op, value: value, items: items, subject: subject, alternative: alternative)
        }
        let supported = "The following filters are supported: \(rules.operators.joined(separator: ", "))"
        guard operatorNames.contains(op), rules.operators.contains(op) else { throw BadRequest("Unsupported filter type '\(op)'. \(supported)") }
        var pattern: LikePattern?
        var items = [value]
        if op == "like" {
            guard let compiled = LikePattern(value) else { throw BadRequest("A like pattern is at most \(LikePattern.maxLength) characters.") }
            pattern = compiled
        } else {
            items = op == "in" ? try splitQuoted(value) : [value]
            for item in items {
                if let problem = rules.values.problem(item, field: field) { throw BadRequest(problem) }
            }
            if case .boolean = rules.values {
                items = items.map { isTrue($0) ? "true" : "false" }
                value = items.joined(separator: ",")
            }
        }
        return Filter(field: field, op: op, value: value, items: items, pattern: pattern, subject: subject, alternative: alternative)
    }

    /// An `in` filter's values as Glare splits them (`split_filter_value_for_quotes`, after
    /// api-wg): by commas, except inside double quotes (`"a,b",c` is `a,b` and `c`; a
    /// backslash escapes a quote). A quote must open after a comma (or at the start), close
    /// before one (or at the end), and close.
    static func splitQuoted(_ value: String) throws(BadRequest) -> [String] {
        let chars = Array(value)
        func invalid(_ why: String) -> BadRequest { BadRequest("Invalid filter value \(value). \(why)") }
        var open = false
        for i in chars.indices where chars[i] == "\"" && !(i > 0 && chars[i - 1] == "\\") {
            if !open && i > 0 && chars[i - 1] != "," { throw invalid("There is no comma before opening quotation mark.") }
            if open && i + 1 < chars.count && chars[i + 1] != "," { throw invalid("There is no comma after closing quotation mark.") }
            open.toggle()
        }
        if open { throw invalid("The quote is not closed.") }
        var items: [String] = []
        var i = 0
        while i < chars.count {
            var item = ""
            if chars[i] == "\"" {
                i += 1
                while i < chars.count && chars[i] != "\"" {
                    // A backslash keeps the character after it (both are kept, as Glare keeps them).
                    if chars[i] == "\\" && i + 1 < chars.count {
                        item.append(chars[i])
                        i += 1
                    }
                    item.append(chars[i])
                    i += 1
                }
                i += 1  // the closing quote
            } else {
                while i < chars.count && chars[i] != "," {
                    item.append(chars[i])
                    i += 1
                }
            }
            items.append(item)
            if i < chars.count && chars[i] == "," { i += 1 }
        }
        return items
    }
}
