import Foundation
import GranaryIndex
import GranaryParsing

/// An artifact type: its name (plural, snake case, as in URLs), display name and fields.
package struct ArtifactType: Sendable, Codable, Equatable {
    package var name: String
    package var displayName: String
    package var version = "1.0"
    package var fields: [ArtifactField]
    /// A key that every rendering of the type's artifacts adds, holding the name in upper case:
    /// Glare's sample type does so (its `to_dict` and `format_all`), and its clients expect it.
    package var upperCaseNameKey: String?

    enum CodingKeys: String, CodingKey {
        case name, version, fields
        case displayName = "display_name"
    }

    package init(name: String, displayName: String, fields: [ArtifactField], upperCaseNameKey: String? = nil) {
        self.name = name
        self.displayName = displayName
        self.fields = fields
        self.upperCaseNameKey = upperCaseNameKey
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
            for field in type.fields {
                if let problem = field.declarationProblem(typeName: type.name) {
                    throw CatalogError(.badRequest, "artifact type \(type.name): field '\(field.name)' \(problem)")
                }
            }
            types[type.name] = type
        }
    }

    package func type(_ name: String) throws -> ArtifactType {
        guard let type = types[name] else {
            throw CatalogError(.notFound, "Glare type with name '\(name)' was not found.", exception: "TypeNotFound")
        }
        return type
    }

    /// Glare's own types, field for field (glare/objects/heat_template.py, heat_environment.py,
    /// murano_package.py, tosca_template.py, image.py and glare/tests/sample_artifact.py).
    package static let builtin: [ArtifactType] = [
        ArtifactType(
            name: "heat_templates", displayName: "Heat Templates",
            fields: [
                ArtifactField("environments", .dict, mutable: true, requiredOnActivate: true).with {
                    $0.element = .link
                    $0.description = "References to Heat Environments that can be used with current template."
                },
                ArtifactField("template", .blob, requiredOnActivate: true).with { $0.description = "Heat template body." },
                ArtifactField("nested_templates", .folder, requiredOnActivate: true).with {
                    $0.description = "Dict of nested templates where key is the name  of template and value is nested template body."
                },
                ArtifactField("default_envs", .dict, mutable: true, requiredOnActivate: true).with {
                    $0.description = "Default environments that can be applied to the template if no environments specified by user."
                },
            ]),
        ArtifactType(
            name: "heat_environments", displayName: "Heat Environments",
            fields: [ArtifactField("environment", .blob, requiredOnActivate: true).with { $0.description = "Heat Environment text body." }]),
        ArtifactType(
            name: "murano_packages", displayName: "Murano packages",
            fields: [
                ArtifactField("package", .blob).with {
                    $0.maxBlobSize = 100 << 20
                    $0.description = "Murano Package binary."
                },
                ArtifactField("type", .string, requiredOnActivate: true).with {
                    $0.allowedValues = ["Application", "Library"]
                    $0.defaultValue = .string("Application")
                    $0.description = "Package type."
                },
                ArtifactField("display_name", .string, mutable: true, requiredOnActivate: true).with {
                    $0.description = "Package name in human-readable format."
                },
                ArtifactField("categories", .list, mutable: true, requiredOnActivate: true).with {
                    $0.description = "List of categories specified for the package."
                },
                ArtifactField("class_definitions", .list, requiredOnActivate: true).with {
                    $0.uniqueItems = true
                    $0.description = "List of class definitions in the package."
                },
                ArtifactField("inherits", .dict, requiredOnActivate: true), ArtifactField("keywords", .list, mutable: true, requiredOnActivate: true),
                ArtifactField("dependencies", .list).with {
                    $0.element = .link
                    $0.description = "List of package dependencies for this package."
                },
            ]),
        ArtifactType(
            name: "tosca_templates", displayName: "TOSCA Templates",
            fields: [
                ArtifactField("template_format", .string, requiredOnActivate: true).with { $0.description = "TOSCA template format." },
                ArtifactField("template", .blob, requiredOnActivate: true).with { $0.description = "TOSCA template body." },
            ]),
        ArtifactType(name: "images", displayName: "Images", fields: imageFields),
        ArtifactType(name: "sample_artifact", displayName: "Sample Artifact", fields: sampleFields, upperCaseNameKey: "__some_meta_information__"),
    ]

    static let imageFields: [ArtifactField] = [
        ArtifactField("container_format", .string, requiredOnActivate: true).with {
            $0.allowedValues = ["ami", "ari", "aki", "bare", "ovf", "ova", "docker"]
            $0.description = "Image container format."
        },
        ArtifactField("disk_format", .string, requiredOnActivate: true).with {
            $0.allowedValues = ["ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso"]
            $0.description = "Image disk format."
        },
        ArtifactField("min_ram", .integer).with {
            $0.minimum = 0
            $0.description = "Minimal RAM required to boot image."
        },
        ArtifactField("min_disk", .integer).with {
            $0.minimum = 0
            $0.description = "Minimal disk space required to boot image."
        },
        ArtifactField("image", .blob).with {
            $0.maxBlobSize = 1000 << 30
            $0.description = "Image binary."
        },
        ArtifactField("kernel_id", .string).with {
            $0.pattern = uuidPattern
            $0.description = "ID of image stored in Glare that should be used as the kernel when booting an AMI-style image."
        },
        ArtifactField("ramdisk_id", .string).with {
            $0.pattern = uuidPattern
            $0.description = "ID of image stored in Glare that should be used as the ramdisk when booting an AMI-style image."
        },
        ArtifactField("instance_uuid", .string).with {
            $0.description =
                "Metadata which can be used to record which instance this image is associated with. (Informational only, does not create an instance snapshot.)"
        },
        ArtifactField("architecture", .string).with {
            $0.description =
                "Operating system architecture as specified in http://docs.openstack.org/trunk/openstack-compute/admin/content/adding-images.html"
        },
        ArtifactField("os_distro", .string).with {
            $0.description =
                "Common name of operating system distribution as specified in http://docs.openstack.org/trunk/openstack-compute/admin/content/adding-images.html"
        },
        ArtifactField("os_version", .string).with { $0.description = "Operating system version as specified by the distributor" },
    ]

    /// Glare's `UUID` validator.
    static let uuidPattern = "^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$"
}

extension ArtifactTypeRegistry {
    /// Glare's own test type, field for field (glare/tests/sample_artifact.py): clients and
    /// tests written against Glare use it.
    static let sampleFields: [ArtifactField] = [
        ArtifactField("blob", .blob, mutable: true).with { $0.description = "I am Blob" },
        ArtifactField("small_blob", .blob, mutable: true).with { $0.maxBlobSize = 10 },
        ArtifactField("link1", .link), ArtifactField("link2", .link),
        ArtifactField("bool1", .boolean).with {
            $0.filterOps = ["eq"]
            $0.defaultValue = .bool(false)
        },
        ArtifactField("bool2", .boolean).with {
            $0.filterOps = ["eq"]
            $0.defaultValue = .bool(false)
        },
        ArtifactField("int1", .integer, sortable: true), ArtifactField("int2", .integer, sortable: true),
        ArtifactField("float1", .number, sortable: true), ArtifactField("float2", .number, sortable: true),
        ArtifactField("str1", .string, sortable: true).with { $0.filterOps = ["like", "eq", "neq", "in"] },
        ArtifactField("list_of_str", .list).with { $0.filterOps = ["eq", "in"] },
        ArtifactField("list_of_int", .list).with {
            $0.element = .integer
            $0.filterOps = ["eq", "in"]
        },
        ArtifactField("dict_of_str", .dict).with { $0.filterOps = ["eq", "in"] },
        ArtifactField("dict_of_int", .dict).with {
            $0.element = .integer
            $0.filterOps = ["eq", "in"]
        },
        ArtifactField("dict_of_links", .dict, mutable: true).with {
            $0.element = .link
            $0.filterOps = ["eq"]
        },
        ArtifactField("list_of_links", .list, mutable: true).with {
            $0.element = .link
            $0.filterOps = ["eq"]
        },
        ArtifactField("dict_of_blobs", .folder).with {
            $0.maxFolderSize = 2000
            $0.maxKeyLength = 1000
        },
        ArtifactField("string_mutable", .string, mutable: true),
        ArtifactField("string_regex", .string).with { $0.pattern = "^([0-9a-fA-F]){8}$" },
        ArtifactField("string_required", .string, requiredOnActivate: true),
        ArtifactField("string_validators", .string).with {
            $0.allowedValues = ["aa", "bb", String(repeating: "c", count: 11)]
            $0.maxLength = 10
        },
        ArtifactField("int_validators", .integer).with {
            $0.minimum = 10
            $0.maximum = 20
        },
        ArtifactField("list_validators", .list).with {
            $0.filterOps = []
            $0.maxItems = 3
            $0.uniqueItems = true
        },
        ArtifactField("dict_validators", .dict).with {
            $0.defaultValue = .null
            $0.filterOps = []
            $0.allowedKeys = ["abc", "def", "ghi", "jkl"]
            $0.maxItems = 3
        },
        ArtifactField("system_attribute", .string, requiredOnActivate: true, sortable: true).with {
            $0.system = true
            $0.defaultValue = .string("default")
        },
        ArtifactField("metadata_attribute", .string, requiredOnActivate: true).with {
            $0.defaultValue = .string("default")
            $0.metadata = ["metadata1": "value1", "metadata2": "blahblahblah"]
        },
    ]
}

extension ArtifactField {
    /// Why a types file's declaration of this field cannot be served, or nil.
    func declarationProblem(typeName: String) -> String? {
        if sortable && ![.string, .integer, .number, .boolean].contains(type) { return "cannot be sortable (not a string or number)" }
        if (type == .list || type == .dict) && !element.isScalar { return "needs a scalar element (string, integer, number, boolean or link)" }
        let allowed = valueKind.allowedOperators
        if let bad = filterOps?.first(where: { !allowed.contains($0) }) {
            return "cannot be filtered with '\(bad)' (allowed: \(allowed.joined(separator: ", ")))"
        }
        if let defaultValue, (try? value(from: defaultValue, typeName: typeName)) != defaultValue { return "has a default its own rules refuse" }
        return nil
    }

    /// A copy with `change` applied: built-in types declare their fields' extra rules this way.
    func with(_ change: (inout ArtifactField) -> Void) -> ArtifactField {
        var field = self
        change(&field)
        return field
    }
}
