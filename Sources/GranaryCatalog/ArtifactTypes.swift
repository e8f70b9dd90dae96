import Foundation
import GranaryIndex
package import GranaryParsing

/// One field of an artifact type, with Glare's attributes (Glare: glare/objects/base.py and glare/engine.py).
package struct ArtifactField: Sendable, Codable, Equatable {
    package enum Kind: String, Sendable, Codable {
        case string, integer, number, boolean
        /// A list of strings.
        case list
        /// A dict of string to string.
        case dict
        /// One blob.
        case blob
        /// A blob dict ("folder"): blobs by key.
        case folder
    }

    package var name: String
    package var type: Kind
    package var mutable = false
    package var requiredOnActivate = false
    package var sortable = false
    package var filterOps: [String]?
    package var allowedValues: [String]?
    package var maxLength: Int?
    package var pattern: String?
    package var minimum: Double?
    package var maximum: Double?
    package var maxBlobSize: Int?
    package var maxFolderSize: Int?
    package var description: String?

    enum CodingKeys: String, CodingKey {
        case name, type, mutable, sortable, pattern, minimum, maximum, description
        case requiredOnActivate = "required_on_activate"
        case filterOps = "filter_ops"
        case allowedValues = "allowed_values"
        case maxLength = "max_length"
        case maxBlobSize = "max_blob_size"
        case maxFolderSize = "max_folder_size"
    }

    package init(
        _ name: String, _ type: Kind, mutable: Bool = false, requiredOnActivate: Bool = false, sortable: Bool = false,
        filterOps: [String]? = nil, allowedValues: [String]? = nil, maxLength: Int? = nil, minimum: Double? = nil, maxBlobSize: Int? = nil,
        maxFolderSize: Int? = nil
    ) {
        self.name = name
        self.filterOps = filterOps
        self.type = type
        self.mutable = mutable
        self.requiredOnActivate = requiredOnActivate
        self.sortable = sortable
        self.allowedValues = allowedValues
        self.maxLength = maxLength
        self.minimum = minimum
        self.maxBlobSize = maxBlobSize
        self.maxFolderSize = maxFolderSize
    }

    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        type = try c.decode(Kind.self, forKey: .type)
        mutable = try c.decodeIfPresent(Bool.self, forKey: .mutable) ?? false
        requiredOnActivate = try c.decodeIfPresent(Bool.self, forKey: .requiredOnActivate) ?? false
        sortable = try c.decodeIfPresent(Bool.self, forKey: .sortable) ?? false
        filterOps = try c.decodeIfPresent([String].self, forKey: .filterOps)
        allowedValues = try c.decodeIfPresent([String].self, forKey: .allowedValues)
        maxLength = try c.decodeIfPresent(Int.self, forKey: .maxLength)
        pattern = try c.decodeIfPresent(String.self, forKey: .pattern)
        minimum = try c.decodeIfPresent(Double.self, forKey: .minimum)
        maximum = try c.decodeIfPresent(Double.self, forKey: .maximum)
        maxBlobSize = try c.decodeIfPresent(Int.self, forKey: .maxBlobSize)
        maxFolderSize = try c.decodeIfPresent(Int.self, forKey: .maxFolderSize)
        description = try c.decodeIfPresent(String.self, forKey: .description)
    }

    package var isBlob: Bool { type == .blob || type == .folder }

    /// The operators a list filter may use on this field (Glare's defaults by type).
    package var operators: [String] {
        if let filterOps { return filterOps }
        switch type {
        case .string, .list, .dict: return ["eq", "neq", "in"]
        case .integer, .number: return ["eq", "neq", "in", "gt", "gte", "lt", "lte"]
        case .boolean: return ["eq", "neq"]
        case .blob, .folder: return []
        }
    }

    /// What a filter value of this field must parse as.
    var filterValues: ArtifactQuery.Values {
        if let allowedValues { return .oneOf(allowedValues) }
        switch type {
        case .integer: return .integer
        case .number: return .number
        case .boolean: return .boolean
        default: return .text
        }
    }

    /// What an unset field reads as (Glare's defaults: a list `[]`, a dict `{}`, a boolean
    /// false; anything else null).
    package var unsetValue: JSONValue {
        switch type {
        case .list: .array([])
        case .dict: .object([:])
        case .boolean: .bool(false)
        default: .null
        }
    }

    /// Glare's default blob limits: 10 MiB a blob, 2550 MiB a folder.
    package var blobLimit: Int { maxBlobSize ?? 10 << 20 }
    package var folderLimit: Int { maxFolderSize ?? 2550 << 20 }

    /// Checks a value the client set; the error names the field and the rule.
    package func validate(_ value: JSONValue) throws {
        func fail(_ why: String) -> CatalogError { CatalogError(.badRequest, "Field \(name): \(why).") }
        switch (type, value) {
        case (_, .null): return
        case (.string, .string(let text)):
            if text.count > (maxLength ?? 255) { throw fail("longer than \(maxLength ?? 255) characters") }
            if let allowedValues, !allowedValues.contains(text) { throw fail("must be one of \(allowedValues.joined(separator: ", "))") }
            if let pattern, text.range(of: pattern, options: .regularExpression) == nil { throw fail("must match \(pattern)") }
        case (.integer, .number(let n)):
            guard DecimalText.integer(exactly: n) != nil else { throw fail("must be an integer within ±2^63") }
            try checkRange(n, fail)
        case (.number, .number(let n)):
            try checkRange(n, fail)
        case (.boolean, .bool):
            return
        case (.list, .array(let items)):
            guard items.count <= 255 else { throw fail("more than 255 items") }
            for item in items {
                guard case .string(let text) = item else { throw fail("items must be strings") }
                if let allowedValues, !allowedValues.contains(text) { throw fail("items must be one of \(allowedValues.joined(separator: ", "))") }
            }
        case (.dict, .object(let entries)):
            guard entries.count <= 255 else { throw fail("more than 255 keys") }
            guard entries.values.allSatisfy({ if case .string = $0 { true } else { false } }) else { throw fail("values must be strings") }
        case (.blob, _), (.folder, _):
            throw fail("a blob is set by uploading to /artifacts/{type}/{id}/\(name), not by a patch")
        default:
            throw fail("must be \(type == .list ? "a list" : type == .dict ? "an object" : "a \(type.rawValue)")")
        }
    }

    private func checkRange(_ n: Double, _ fail: (String) -> CatalogError) throws {
        if let minimum, n < minimum { throw fail("must be at least \(minimum)") }
        if let maximum, n > maximum { throw fail("must be at most \(maximum)") }
    }
}

/// An artifact type: its name (plural, snake case, as in URLs), display name and fields.
package struct ArtifactType: Sendable, Codable, Equatable {
    package var name: String
    package var displayName: String
    package var version = "1.0"
    package var fields: [ArtifactField]

    enum CodingKeys: String, CodingKey {
        case name, version, fields
        case displayName = "display_name"
    }

    package init(name: String, displayName: String, fields: [ArtifactField]) {
        self.name = name
        self.displayName = displayName
        self.fields = fields
    }

    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        displayName = try c.decodeIfPresent(String.self, forKey: .displayName) ?? name
        version = try c.decodeIfPresent(String.self, forKey: .version) ?? "1.0"
        fields = try c.decodeIfPresent([ArtifactField].self, forKey: .fields) ?? []
    }

    package func field(_ name: String) -> ArtifactField? { fields.first { $0.name == name } }
}

/// The artifact types a server offers: the built-in ones (Glare's) and any an operator
/// declares in a JSON file (`{"types": [{"name", "display_name", "fields": [...]}]}`), so a new
/// type needs no code.
package struct ArtifactTypeRegistry: Sendable {
    package private(set) var types: [String: ArtifactType]

    /// The meta-type that lists artifacts of every type (Glare: glare/objects/all.py): base
    /// fields and `type_name` only, read-only.
    package static let all = "all"
    package static let allType = ArtifactType(name: all, displayName: "All Artifacts", fields: [])
    /// What a write through `all` answers.
    static let readOnly = CatalogError(.forbidden, "This type is read only.")

    /// Base field names (Glare: glare/objects/base.py and glare/engine.py); a type may not redefine them.
    package static let baseFields: Set<String> = [
        "id", "name", "owner", "status", "visibility", "version", "description", "tags", "metadata", "created_at", "updated_at",
        "activated_at", "display_type_name", "type_name",
    ]

    package init(types: [ArtifactType] = Self.builtin) {
        self.types = Dictionary(uniqueKeysWithValues: types.map { ($0.name, $0) })
    }

    /// The built-in types plus those of `file`.
    package init(loading file: String) throws {
        self.init()
        struct Document: Decodable { let types: [ArtifactType] }
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: file)) } catch {
            throw CatalogError(.badRequest, "artifact types file \(file) cannot be read: \(error.localizedDescription)")
        }
        let document: Document
        do { document = try JSONDecoder().decode(Document.self, from: data) } catch {
            throw CatalogError(.badRequest, "artifact types file \(file) is not a valid types document: \(error)")
        }
        for type in document.types {
            guard type.name.range(of: "^[a-z][a-z0-9_]*$", options: .regularExpression) != nil, type.name != Self.all else {
                throw CatalogError(.badRequest, "artifact type name '\(type.name)' must be snake case and not 'all'")
            }
            if let clash = type.fields.first(where: { Self.baseFields.contains($0.name) }) {
                throw CatalogError(.badRequest, "artifact type \(type.name): field '\(clash.name)' is a base field")
            }
            if let bad = type.fields.first(where: { $0.sortable && !$0.isSortableKind }) {
                throw CatalogError(.badRequest, "artifact type \(type.name): field '\(bad.name)' cannot be sortable (not a string or number)")
            }
            types[type.name] = type
        }
    }

    package func type(_ name: String) throws -> ArtifactType {
        guard let type = types[name] else { throw CatalogError(.notFound, "There is no artifact type '\(name)'.") }
        return type
    }

    package static let builtin: [ArtifactType] = [
        ArtifactType(
            name: "heat_templates", displayName: "Heat Template",
            fields: [
                ArtifactField("template", .blob, requiredOnActivate: true), ArtifactField("nested_templates", .folder),
                ArtifactField("default_envs", .dict, mutable: true),
            ]),
        ArtifactType(
            name: "heat_environments", displayName: "Heat Environment", fields: [ArtifactField("environment", .blob, requiredOnActivate: true)]),
        ArtifactType(
            name: "murano_packages", displayName: "Murano Package",
            fields: [
                ArtifactField("package", .blob, maxBlobSize: 100 << 20),
                ArtifactField("type", .string, sortable: true, allowedValues: ["Application", "Library"]),
                ArtifactField("display_name", .string, mutable: true, sortable: true), ArtifactField("categories", .list, mutable: true),
                ArtifactField("class_definitions", .list), ArtifactField("keywords", .list, mutable: true), ArtifactField("inherits", .dict),
            ]),
        ArtifactType(
            name: "tosca_templates", displayName: "TOSCA Template",
            fields: [ArtifactField("template_format", .string, sortable: true), ArtifactField("template", .blob, requiredOnActivate: true)]),
        ArtifactType(
            name: "images", displayName: "Image",
            fields: [
                ArtifactField("container_format", .string, sortable: true, allowedValues: ["ami", "ari", "aki", "bare", "ovf", "ova", "docker"]),
                ArtifactField(
                    "disk_format", .string, sortable: true,
                    allowedValues: ["ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso"]),
                ArtifactField("min_ram", .integer, sortable: true, minimum: 0), ArtifactField("min_disk", .integer, sortable: true, minimum: 0),
                ArtifactField("image", .blob, requiredOnActivate: true, maxBlobSize: 1000 << 30),
                ArtifactField("kernel_id", .string), ArtifactField("ramdisk_id", .string), ArtifactField("instance_uuid", .string),
                ArtifactField("architecture", .string, sortable: true), ArtifactField("os_distro", .string, sortable: true),
                ArtifactField("os_version", .string, sortable: true),
            ]),
        ArtifactType(
            name: "sample_artifact", displayName: "Sample Artifact",
            fields: [
                // Mutability and operators as glare/tests/sample_artifact.py declares them.
                ArtifactField("blob", .blob, mutable: true), ArtifactField("small_blob", .blob, mutable: true, maxBlobSize: 10),
                ArtifactField("dict_of_blobs", .folder, maxFolderSize: 2000),
                ArtifactField("bool1", .boolean, filterOps: ["eq"]), ArtifactField("int1", .integer, sortable: true),
                ArtifactField("float1", .number, sortable: true),
                ArtifactField("str1", .string, sortable: true, filterOps: ["like", "eq", "neq", "in"]),
                ArtifactField("list_of_str", .list, filterOps: ["eq", "in"]), ArtifactField("dict_of_str", .dict, filterOps: ["eq", "in"]),
                ArtifactField("string_required", .string, requiredOnActivate: true),
                ArtifactField("string_mutable", .string, mutable: true),
            ]),
    ]
}

extension ArtifactField {
    var isSortableKind: Bool { [.string, .integer, .number, .boolean].contains(type) }
}
