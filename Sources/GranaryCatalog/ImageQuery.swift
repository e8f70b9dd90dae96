import Foundation
import GranaryIndex
import GranaryParsing

/// A parsed `GET /v2/images` query (reference §6): filters, sort order and page.
public struct ImageQuery: Sendable {
    public enum Direction: String, Sendable { case asc, desc }

    public var limit = 25
    public var marker: String?
    public var sort: [(key: String, direction: Direction)] = []
    public var visibility: String?
    public var memberStatus = "accepted"
    public var osHidden = false
    public var protected: Bool?
    public var tags: [String] = []
    public var sizeMin: Int?
    public var sizeMax: Int?
    /// `name`, `id`, `status`, `container_format`, `disk_format`: allowed values (eq or in).
    public var sets: [String: Set<String>] = [:]
    /// `created_at`, `updated_at`: (operator, seconds).
    public var times: [(key: String, op: String, value: Int)] = []
    /// Other columns and custom properties: exact values.
    public var equals: [String: String] = [:]

    static let sortKeys: Set<String> = ["name", "status", "container_format", "disk_format", "size", "id", "created_at", "updated_at"]
    static let setKeys: Set<String> = ["name", "id", "status", "container_format", "disk_format"]

    /// Whether the sort order is the indexes' (created_at, id) order, as ``precedes`` completes
    /// it: true newest first (the default), false oldest first, nil for any other order.
    var createdOrderDescending: Bool? {
        guard let first = sort.first else { return true }
        guard first.key == "created_at" else { return nil }
        if sort.count == 1 || (sort.count == 2 && sort[1].key == "id" && sort[1].direction == first.direction) {  // checked: count tested
            return first.direction == .desc
        }
        return nil
    }

    /// The column and direction of a list the sort index serves: one sort key other than
    /// created_at, alone or followed by created_at (and id) in its direction, which is the
    /// index's own tie order. Nil for any other sort (sorted in memory).
    var indexedSortOrder: (column: SortColumn, descending: Bool)? {
        guard let first = sort.first, let column = SortColumn(rawValue: first.key) else { return nil }
        let rest = sort.dropFirst()
        guard rest.allSatisfy({ $0.direction == first.direction }) else { return nil }
        let keys = rest.map(\.key)
        guard column == .id || keys.isEmpty || keys == ["created_at"] || keys == ["created_at", "id"] else { return nil }
        return (column, first.direction == .desc)
    }

    public init() {}

    /// Parses query parameters (each name with all its values, in order).
    public init(parameters: [(String, String)]) throws(CatalogError) {
        func bad(_ text: String) -> CatalogError { CatalogError(.badRequest, text) }
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

    /// Whether `image` passes every filter except visibility and membership.
    func matches(_ image: ImageRecord) -> Bool {
        if image.osHidden != osHidden { return false }
        if let protected, image.protected != protected { return false }
        if !tags.allSatisfy(image.tags.contains) { return false }
        if let sizeMin, (image.size ?? -1) < sizeMin { return false }
        if let sizeMax, image.size.map({ $0 > sizeMax }) ?? true { return false }
        for (key, allowed) in sets where !allowed.contains(Self.column(key, of: image) ?? "") { return false }
        for (key, op, value) in times {
            let have = key == "created_at" ? image.createdAt : image.updatedAt
            let ok =
                switch op {
                case "gt": have > value
                case "gte": have >= value
                case "lt": have < value
                case "lte": have <= value
                case "neq": have != value
                default: have == value
                }
            if !ok { return false }
        }
        for (key, value) in equals where Self.column(key, of: image) != value { return false }
        return true
    }

    /// The columns ``column(_:of:)`` reads from the record itself; any other key is a custom property.
    static let baseColumns: Set<String> = [
        "id", "name", "status", "visibility", "container_format", "disk_format", "checksum", "os_hash_value", "os_hash_algo", "owner",
        "size", "virtual_size", "min_ram", "min_disk",
    ]

    /// The custom properties the exact-value filters name.
    var filteredProperties: [String] { equals.keys.filter { !Self.baseColumns.contains($0) } }

    /// A column or custom property as text, for filtering and sorting.
    static func column(_ key: String, of image: ImageRecord) -> String? {
        switch key {
        case "id": image.id
        case "name": image.name
        case "status": image.status
        case "visibility": image.visibility
        case "container_format": image.containerFormat
        case "disk_format": image.diskFormat
        case "checksum": image.checksum
        case "os_hash_value": image.osHashValue
        case "os_hash_algo": image.osHashAlgo
        case "owner": image.owner
        case "size": image.size.map(String.init)
        case "virtual_size": image.virtualSize.map(String.init)
        case "min_ram": String(image.minRam)
        case "min_disk": String(image.minDisk)
        default: image.properties[key]
        }
    }

    /// Orders two images by the sort keys, then `created_at` and `id` as Glance's tie-breakers.
    func precedes(_ a: ImageRecord, _ b: ImageRecord) -> Bool {
        var keys = sort
        if !keys.contains(where: { $0.key == "created_at" }) { keys.append(("created_at", keys.first?.direction ?? .desc)) }
        if !keys.contains(where: { $0.key == "id" }) { keys.append(("id", keys.first?.direction ?? .desc)) }
        for (key, direction) in keys {
            let order = Self.compare(key, a, b)
            if order != 0 { return direction == .asc ? order < 0 : order > 0 }
        }
        return false
    }

    static func compare(_ key: String, _ a: ImageRecord, _ b: ImageRecord) -> Int {
        func cmp<T: Comparable>(_ x: T?, _ y: T?) -> Int {
            switch (x, y) {
            case (nil, nil): 0
            case (nil, _): -1
            case (_, nil): 1
            case let (x?, y?): x < y ? -1 : (x > y ? 1 : 0)
            }
        }
        switch key {
        case "size": return cmp(a.size, b.size)
        case "created_at": return cmp(a.createdAt, b.createdAt)
        case "updated_at": return cmp(a.updatedAt, b.updatedAt)
        default: return cmp(column(key, of: a), column(key, of: b))
        }
    }
}
