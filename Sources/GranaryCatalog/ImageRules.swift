import GranaryIndex
import GranaryParsing

/// Glance's attribute rules for images (Glance: glance/api/v2/images.py, `get_base_properties`), independent of storage and HTTP.
enum ImageRules {
    static let containerFormats: Set<String> = ["ami", "ari", "aki", "bare", "ovf", "ova", "docker", "compressed"]
    static let diskFormats: Set<String> = ["ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso", "ploop"]
    static let readOnly: Set<String> = [
        "direct_url", "self", "file", "schema", "stores", "created_at", "updated_at", "status", "checksum",
        "os_hash_algo", "os_hash_value", "size", "virtual_size",
    ]
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

    /// Sets one attribute (base or custom) with its type rules.
    static func set(_ key: String, _ value: JSONValue, on record: inout ImageRecord, caller: Caller) throws(CatalogError) {
        func invalid(_ why: String) -> CatalogError { CatalogError(.badRequest, "Invalid value for '\(key)': \(why)") }
        switch key {
        case "name":
            switch value {
            case .null: record.name = nil
            case .string(let s) where s.count <= 255: record.name = s
            case .string: throw invalid("longer than 255 characters")
            default: throw invalid("\(value.typeName) is not of type 'null', 'string'")
            }
        case "visibility":
            guard case .string(let s) = value, let visibility = ImageVisibility(rawValue: s) else {
                throw invalid("must be one of \(ImageVisibility.allCases.map(\.rawValue).sorted().joined(separator: ", "))")
            }
            if visibility == .public && !caller.isAdmin { throw CatalogError(.forbidden, "You are not authorized to publicize this image.") }
            record.visibility = visibility
        case "protected", "os_hidden":
            guard case .bool(let b) = value else { throw invalid("\(value.typeName) is not of type 'boolean'") }
            if key == "protected" { record.protected = b } else { record.osHidden = b }
        case "container_format", "disk_format":
            let allowed = key == "container_format" ? containerFormats : diskFormats
            switch value {
            case .null:
                if key == "container_format" { record.containerFormat = nil } else { record.diskFormat = nil }
            case .string(let s) where allowed.contains(s):
                if key == "container_format" { record.containerFormat = s } else { record.diskFormat = s }
            default: throw invalid("must be one of \(allowed.sorted().joined(separator: ", ")) or null")
            }
        case "min_disk", "min_ram":
            guard case .number(let n) = value, let number = DecimalText.integer(exactly: n) else {
                throw invalid("\(value.typeName) is not of type 'integer'")
            }
            guard number >= 0 else { throw invalid("must not be negative") }
            // Glance keeps these in 32-bit columns.
            guard number <= Int(Int32.max) else { throw invalid("must be at most \(Int32.max)") }  // checked: widening
            if key == "min_disk" { record.minDisk = number } else { record.minRam = number }
        case "owner":
            switch value {
            case .null: record.owner = nil
            case .string(let s) where s.count <= 255: record.owner = s
            default: throw invalid("\(value.typeName) is not of type 'null', 'string'")
            }
            if !caller.isAdmin && record.owner != caller.projectID {
                throw CatalogError(.forbidden, "You are not permitted to create images owned by '\(record.owner ?? "null")'.")
            }
        case "tags":
            guard case .array(let items) = value else { throw invalid("\(value.typeName) is not of type 'array'") }
            var tags: [String] = []
            for item in items {
                guard case .string(let tag) = item, tag.count <= 255 else { throw invalid("tags are strings of at most 255 characters") }
                if !tags.contains(tag) { tags.append(tag) }
            }
            if tags.count > tagQuota { throw CatalogError(.payloadTooLarge, "Maximum number of tags (\(tagQuota)) exceeded.") }
            record.tags = tags
        default:
            guard key.count <= 255 else { throw CatalogError(.badRequest, "Property names are at most 255 characters.") }
            guard case .string(let s) = value else { throw invalid("\(value.typeName) is not of type 'string'") }
            record.properties[key] = s
        }
    }
}
