import Foundation

/// A parsed `GET /v2/images` query (Glance's `glance/api/v2/images.py` request deserializer):
/// filters, sort order and page. How a record matches it is the catalog's (`ImageQuery+Matching`).
package struct ImageQuery: Sendable {
    package enum Direction: String, Sendable { case asc, desc }

    package var limit = 25
    package var marker: String?
    package var sort: [(key: String, direction: Direction)] = []
    package var visibility: String?
    package var memberStatus = "accepted"
    package var osHidden = false
    package var protected: Bool?
    package var tags: [String] = []
    package var sizeMin: Int?
    package var sizeMax: Int?
    /// `name`, `id`, `status`, `container_format`, `disk_format`: allowed values (eq or in).
    package var sets: [String: Set<String>] = [:]
    /// `created_at`, `updated_at`: (operator, seconds).
    package var times: [(key: String, op: String, value: Int)] = []
    /// Other columns and custom properties: exact values.
    package var equals: [String: String] = [:]

    package static let sortKeys: Set<String> = ["name", "status", "container_format", "disk_format", "size", "id", "created_at", "updated_at"]
    package static let setKeys: Set<String> = ["name", "id", "status", "container_format", "disk_format"]

    package init() {}

    /// Parses query parameters (each name with all its values, in order).
    package init(parameters: [(String, String)]) throws(BadRequest) {
        func bad(_ text: String) -> BadRequest { BadRequest(text) }
        var sortKeys: [String] = []
        var sortDirs: [Direction] = []
        var sortParam: String?
        for (name, value) in parameters {
            switch name {
            case "limit":
                guard let n = DecimalText.integer(value), n >= 0 else { throw bad("limit param must be an integer") }
                limit = min(n, 1000)
            case "marker": marker = value
            case "sort_key":
                guard Self.sortKeys.contains(value) else {
                    throw bad("Invalid sort key: \(value). It must be one of the following: \(Self.sortKeys.sorted().joined(separator: ", ")).")
                }
                sortKeys.append(value)
            case "sort_dir":
                guard let dir = Direction(rawValue: value) else { throw bad("Invalid sort direction: \(value)") }
                sortDirs.append(dir)
            case "sort": sortParam = value
            case "visibility":
                guard ["public", "private", "shared", "community", "all"].contains(value) else { throw bad("Invalid visibility value: \(value)") }
                visibility = value
            case "member_status":
                guard ["pending", "accepted", "rejected", "all"].contains(value) else { throw bad("Invalid status value: \(value)") }
                memberStatus = value
            case "os_hidden", "protected":
                guard let flag = Bool(value.lowercased()) else { throw bad("Invalid value for \(name): \(value)") }
                if name == "os_hidden" { osHidden = flag } else { protected = flag }
            case "tag": tags.append(value)
            case "size_min", "size_max":
                guard let n = DecimalText.integer(value) else { throw bad("\(name) must be an integer") }
                if name == "size_min" { sizeMin = n } else { sizeMax = n }
            case "changes-since": throw bad("The parameter changes-since is no longer available on v2.")
            case "created_at", "updated_at":
                let (op, text) = Self.split(value, default: "eq")
                guard ["gt", "gte", "lt", "lte", "eq", "neq"].contains(op) else { throw bad("Invalid operator \(op) for \(name)") }
                guard let date = Self.parseDate(text) else { throw bad("Invalid date for \(name): \(text)") }
                times.append((name, op, date))
            case _ where Self.setKeys.contains(name):
                let (op, text) = Self.split(value, default: "eq")
                switch op {
                case "eq": sets[name] = [text]
                case "in": sets[name] = Set(Self.inValues(text))
                default: throw bad("Unable to filter on \(name) with operator \(op)")
                }
            default:
                equals[name] = value
            }
        }
        if let sortParam {
            guard sortKeys.isEmpty && sortDirs.isEmpty else { throw bad("The 'sort' parameter cannot be combined with 'sort_key' or 'sort_dir'.") }
            for item in sortParam.split(separator: ",") {
                let parts = item.split(separator: ":", maxSplits: 1).map(String.init)
                guard let key = parts.first, Self.sortKeys.contains(key) else { throw bad("Invalid sort key: \(item)") }
                var dir = Direction.desc
                if parts.count == 2 {
                    guard let parsed = Direction(rawValue: parts[1]) else { throw bad("Invalid sort direction: \(parts[1])") }  // checked: count is 2
                    dir = parsed
                }
                sort.append((key, dir))
            }
        } else if !sortKeys.isEmpty {
            guard sortDirs.count <= 1 || sortDirs.count == sortKeys.count else {
                throw bad("The number of sort_dir values must be one or match the number of sort_key values.")
            }
            sort = sortKeys.enumerated().map { i, key in (key, sortDirs.count == sortKeys.count ? sortDirs[i] : (sortDirs.first ?? .desc)) }
        } else if !sortDirs.isEmpty {
            sort = [("created_at", sortDirs[0])]  // checked: not empty
        }
    }

    /// `op:value`, or the whole text with the default operator.
    static func split(_ text: String, default op: String) -> (String, String) {
        guard let colon = text.firstIndex(of: ":") else { return (op, text) }
        return (String(text[..<colon]), String(text[text.index(after: colon)...]))
    }

    /// `in:` values: comma-separated, a value with commas in double quotes.
    static func inValues(_ text: String) -> [String] {
        var values: [String] = []
        var current = ""
        var quoted = false
        for character in text {
            if character == "\"" {
                quoted.toggle()
            } else if character == "," && !quoted {
                values.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        values.append(current)
        return values
    }

    static func parseDate(_ text: String) -> Int? {
        let formatter = ISO8601DateFormatter()
        for options: ISO8601DateFormatter.Options in [[.withInternetDateTime], [.withInternetDateTime, .withFractionalSeconds], [.withFullDate]] {
            formatter.formatOptions = options
            if let date = formatter.date(from: text) { return Int(exactly: date.timeIntervalSince1970.rounded(.down)) }
        }
        return nil
    }

}
