import GranaryIndex
import GranaryParsing

/// How image records meet an ``ImageQuery``: its filters, its order, and which index order
/// serves it.
extension ImageQuery {
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
        case "status": image.status.rawValue
        case "visibility": image.visibility.rawValue
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
