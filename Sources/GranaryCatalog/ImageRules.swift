import GranaryIndex
import GranaryParsing

/// Glance's attribute rules for images (Glance: glance/api/v2/images.py, `get_base_properties`), independent of storage and HTTP.
enum ImageRules {
    static let readOnly = ImageSchema.readOnly
    static let reserved: Set<String> = ["location", "deleted", "deleted_at", "locations"]
    static let propertyQuota = 128
    static let tagQuota = 128

    /// Whether `text` is a UUID in Glance's accepted form (hex groups 8-4-4-4-12).
    static func isUUID(_ text: String) -> Bool {
        let groups = text.split(separator: "-", omittingEmptySubsequences: false)
        guard groups.map(\.count) == [8, 4, 4, 4, 12] else { return false }
        return groups.allSatisfy { $0.allSatisfy(\.isHexDigit) }
    }

    /// Applies a create request's attributes to a new record, checking every rule.
    static func applyCreate(_ body: [String: JSONValue], to record: inout ImageRecord, caller: Caller) throws(CatalogError) {
        for (key, value) in body.sorted(by: { $0.key < $1.key }) {
            if key == "id" { continue }
            if readOnly.contains(key) { throw CatalogError(.forbidden, "Attribute '\(key)' is read-only.") }
            if reserved.contains(key) || key.hasPrefix("os_glance") { throw CatalogError(.forbidden, "Attribute '\(key)' is reserved.") }
            try set(key, value, on: &record, caller: caller)
        }
        if record.properties.count > propertyQuota {
            throw CatalogError(.payloadTooLarge, "Maximum number of image properties (\(propertyQuota)) exceeded.")
        }
    }

    /// Sets one attribute (base or custom): the served schema's checks, then Glance's rules.
    static func set(_ key: String, _ value: JSONValue, on record: inout ImageRecord, caller: Caller) throws(CatalogError) {
        func invalid(_ why: String) -> CatalogError { CatalogError(.badRequest, "Invalid value for '\(key)': \(why)") }
        guard key.count <= 255 else { throw CatalogError(.badRequest, "Property names are at most 255 characters.") }
        try ImageSchema.check(key, value)
        let text: String? = if case .string(let s) = value { s } else { nil }
        switch key {
        case "name": record.name = text
        case "visibility":
            guard let visibility = text.flatMap(ImageVisibility.init(rawValue:)) else { throw invalid("not a visibility") }
            if visibility == .public && !caller.isAdmin { throw CatalogError(.forbidden, "You are not authorized to publicize this image.") }
            record.visibility = visibility
        case "protected": record.protected = value == .bool(true)
        case "os_hidden": record.osHidden = value == .bool(true)
        case "container_format": record.containerFormat = text
        case "disk_format": record.diskFormat = text
        case "min_disk", "min_ram":
            guard case .number(let n) = value, let number = DecimalText.integer(exactly: n) else {
                throw invalid("\(value.typeName) is not of type 'integer'")
            }
            guard number >= 0 else { throw invalid("must not be negative") }
            // Glance keeps these in 32-bit columns.
            guard number <= Int(Int32.max) else { throw invalid("must be at most \(Int32.max)") }  // checked: widening
            if key == "min_disk" { record.minDisk = number } else { record.minRam = number }
        case "owner":
            record.owner = text
            if !caller.isAdmin && record.owner != caller.projectID {
                throw CatalogError(.forbidden, "You are not permitted to create images owned by '\(record.owner ?? "null")'.")
            }
        case "tags":
            guard case .array(let items) = value else { throw invalid("\(value.typeName) is not of type 'array'") }
            var tags: [String] = []
            for case .string(let tag) in items where !tags.contains(tag) { tags.append(tag) }
            if tags.count > tagQuota { throw CatalogError(.payloadTooLarge, "Maximum number of tags (\(tagQuota)) exceeded.") }
            record.tags = tags
        default:
            // A custom property is a string; the schema lets some be null (kernel_id): unset then.
            record.properties[key] = text
        }
    }
}
