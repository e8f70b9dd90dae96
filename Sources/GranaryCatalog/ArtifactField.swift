import Foundation
package import GranaryParsing

/// One field of an artifact type, with Glare's attributes and validators
/// (glare/objects/meta/wrappers.py and validators.py): what a types file may declare.
package struct ArtifactField: Sendable, Codable, Equatable {
    package enum Kind: String, Sendable, Codable {
        case string, integer, number, boolean
        /// A reference to an artifact (`/artifacts/{type}/{id}`, which must exist) or an http(s) URL.
        case link
        /// A list of `element`s.
        case list
        /// A dict of string to `element`.
        case dict
        /// One blob.
        case blob
        /// A blob dict ("folder"): blobs by key.
        case folder

        var isScalar: Bool { [.string, .integer, .number, .boolean, .link].contains(self) }

        /// Glare's name of the kind (`glareType`: `Integer`, `StringList`, …).
        package var glareName: String {
            switch self {
            case .string: "String"
            case .integer: "Integer"
            case .number: "Float"
            case .boolean: "Boolean"
            case .link: "Link"
            case .list: "List"
            case .dict: "Dict"
            case .blob: "Blob"
            case .folder: "BlobDict"
            }
        }

        /// The JSON-schema type of a value of the kind.
        package var jsonType: String {
            switch self {
            case .string, .link: "string"
            case .integer: "integer"
            case .number: "number"
            case .boolean: "boolean"
            case .list: "array"
            case .dict, .blob, .folder: "object"
            }
        }

        /// Glare's default filter operators (`get_default_filter_ops`).
        var defaultOperators: [String] {
            switch self {
            case .string: ["eq", "neq", "in"]
            case .integer, .number: ["eq", "neq", "in", "gt", "gte", "lt", "lte"]
            case .boolean, .link: ["eq", "neq"]
            case .list, .dict, .blob, .folder: []
            }
        }

        /// The operators a type may declare (`get_allowed_filter_ops`).
        var allowedOperators: [String] {
            switch self {
            case .string: ["eq", "neq", "in", "like"]
            case .integer, .number: ["eq", "neq", "in", "gt", "gte", "lt", "lte", "like"]
            default: defaultOperators
            }
        }
    }

    package var name: String
    package var type: Kind
    /// What a list or dict holds (a scalar kind; strings unless declared).
    package var element: Kind = .string
    package var mutable = false
    package var requiredOnActivate = false
    package var sortable = false
    /// Set by the server only: a create or patch of it is a 403.
    package var system = false
    package var filterOps: [String]?
    package var allowedValues: [String]?
    package var maxLength: Int?
    package var pattern: String?
    package var minimum: Double?
    package var maximum: Double?
    /// Most items of a list or keys of a dict or folder (255 unless declared).
    package var maxItems: Int?
    package var uniqueItems = false
    package var allowedKeys: [String]?
    /// Longest key of a dict or folder (255 unless declared).
    package var maxKeyLength: Int?
    /// What an unset field reads as: nil is the kind's default (`[]`, `{}`, else null).
    package var defaultValue: JSONValue?
    package var metadata: [String: String]?
    package var maxBlobSize: Int?
    package var maxFolderSize: Int?
    package var description: String?

    enum CodingKeys: String, CodingKey {
        case name, type, element, mutable, sortable, system, pattern, minimum, maximum, metadata, description
        case requiredOnActivate = "required_on_activate"
        case filterOps = "filter_ops"
        case allowedValues = "allowed_values"
        case maxLength = "max_length"
        case maxItems = "max_items"
        case uniqueItems = "unique_items"
        case allowedKeys = "allowed_keys"
        case maxKeyLength = "max_key_length"
        case defaultValue = "default"
        case maxBlobSize = "max_blob_size"
        case maxFolderSize = "max_folder_size"
    }

    package init(_ name: String, _ type: Kind, mutable: Bool = false, requiredOnActivate: Bool = false, sortable: Bool = false) {
        self.name = name
        self.type = type
        self.mutable = mutable
        self.requiredOnActivate = requiredOnActivate
        self.sortable = sortable
    }

    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        type = try c.decode(Kind.self, forKey: .type)
        element = try c.decodeIfPresent(Kind.self, forKey: .element) ?? .string
        mutable = try c.decodeIfPresent(Bool.self, forKey: .mutable) ?? false
        requiredOnActivate = try c.decodeIfPresent(Bool.self, forKey: .requiredOnActivate) ?? false
        sortable = try c.decodeIfPresent(Bool.self, forKey: .sortable) ?? false
        system = try c.decodeIfPresent(Bool.self, forKey: .system) ?? false
        filterOps = try c.decodeIfPresent([String].self, forKey: .filterOps)
        allowedValues = try c.decodeIfPresent([String].self, forKey: .allowedValues)
        maxLength = try c.decodeIfPresent(Int.self, forKey: .maxLength)
        pattern = try c.decodeIfPresent(String.self, forKey: .pattern)
        minimum = try c.decodeIfPresent(Double.self, forKey: .minimum)
        maximum = try c.decodeIfPresent(Double.self, forKey: .maximum)
        maxItems = try c.decodeIfPresent(Int.self, forKey: .maxItems)
        uniqueItems = try c.decodeIfPresent(Bool.self, forKey: .uniqueItems) ?? false
        allowedKeys = try c.decodeIfPresent([String].self, forKey: .allowedKeys)
        maxKeyLength = try c.decodeIfPresent(Int.self, forKey: .maxKeyLength)
        // `"default": null` is a declared null (a dict that reads as null), not an absent key.
        defaultValue = c.contains(.defaultValue) ? try c.decode(JSONValue.self, forKey: .defaultValue) : nil
        metadata = try c.decodeIfPresent([String: String].self, forKey: .metadata)
        maxBlobSize = try c.decodeIfPresent(Int.self, forKey: .maxBlobSize)
        maxFolderSize = try c.decodeIfPresent(Int.self, forKey: .maxFolderSize)
        description = try c.decodeIfPresent(String.self, forKey: .description)
    }

    package var isBlob: Bool { type == .blob || type == .folder }

    /// The kind a filter value is read as: a list's or dict's element, else the field's.
    var valueKind: Kind { type == .list || type == .dict ? element : type }

    /// The operators a list filter may use on this field.
    package var operators: [String] { filterOps ?? valueKind.defaultOperators }

    /// What a filter value of this field (or of its elements) must parse as.
    var filterValues: ArtifactQuery.Values {
        if let allowedValues { return .oneOf(allowedValues) }
        switch valueKind {
        case .integer: return .integer
        case .number: return .number
        case .boolean: return .boolean
        default: return .text
        }
    }

    /// What an unset field reads as: the declared default, else `[]` for a list, `{}` for a dict
    /// or folder, null for anything else (Glare's defaults).
    package var unsetValue: JSONValue {
        if let defaultValue { return defaultValue }
        switch type {
        case .list: return .array([])
        case .dict, .folder: return .object([:])
        default: return .null
        }
    }

    /// Glare's default blob limits: 10 MiB a blob, 2550 MiB a folder.
    package var blobLimit: Int { maxBlobSize ?? 10 << 20 }
    package var folderLimit: Int { maxFolderSize ?? 2550 << 20 }
    package var itemLimit: Int { maxItems ?? 255 }
    package var keyLengthLimit: Int { maxKeyLength ?? 255 }
    /// A string's length cap: the declared one, else 255 unless the values are enumerated.
    package var stringLimit: Int? { maxLength ?? (allowedValues == nil ? 255 : nil) }
}

// MARK: - Values

extension ArtifactField {
    /// Why a value is refused: Glare's `ValueError` text.
    struct Invalid: Error {
        let why: String
        init(_ why: String) { self.why = why }
    }

    /// A request value as this field stores it: coerced as Glare's fields coerce (`"2"` → 2 for
    /// an integer, 1 → `"1"` for a string, `bool_from_string` for a boolean, element by element
    /// for lists and dicts), then checked by its validators in Glare's order. Null stays null.
    /// The error is Glare's 400: `Type: T. Field: F. Exception: why`.
    package func value(from raw: JSONValue, typeName: String) throws(CatalogError) -> JSONValue {
        do { return try coerce(raw) } catch {
            throw CatalogError(.badRequest, "Type: \(typeName). Field: \(name). Exception: \(error.why)")
        }
    }

    private func coerce(_ raw: JSONValue) throws(Invalid) -> JSONValue {
        if raw == .null { return .null }
        switch type {
        case .blob, .folder:
            throw Invalid("a blob is set by uploading to /artifacts/{type}/{id}/\(name), not by a patch")
        case .list:
            guard case .array(let items) = raw else { throw Invalid("A list is required in field \(name), not a \(Self.pythonType(raw))") }
            // The count first: the uniqueness check is quadratic.
            try checkCount(items.count)
            var coerced: [JSONValue] = []
            for item in items { coerced.append(try coerceElement(item)) }
            if uniqueItems, coerced.indices.contains(where: { i in coerced[..<i].contains(coerced[i]) }) {
                throw Invalid("List items must be unique.")
            }
            return .array(coerced)
        case .dict:
            guard case .object(let entries) = raw else { throw Invalid("A dict is required in field \(name), not a \(Self.pythonType(raw))") }
            if let allowedKeys, let key = entries.keys.sorted().first(where: { !allowedKeys.contains($0) }) {
                throw Invalid("Key \(key) is not allowed in dict. Allowed key values: \(allowedKeys.joined(separator: ", "))")
            }
            try checkCount(entries.count)
            var coerced: [String: JSONValue] = [:]
            for (key, item) in entries {
                try checkKey(key)
                coerced[key] = try coerceElement(item)
            }
            return .object(coerced)
        default:
            return try coerceScalar(raw, as: type)
        }
    }

    /// A list item or dict value: its kind's coercion, and a string's 255-character cap.
    private func coerceElement(_ raw: JSONValue) throws(Invalid) -> JSONValue {
        let value = try Self.coerce(raw, to: element, field: name)
        if case .string(let text) = value, element == .string { try Self.checkLength(text, 255) }
        return value
    }

    private func coerceScalar(_ raw: JSONValue, as kind: Kind) throws(Invalid) -> JSONValue {
        let value = try Self.coerce(raw, to: kind, field: name)
        switch value {
        case .string(let text):
            if let allowedValues, !allowedValues.contains(text) {
                throw Invalid("Value must be one of the following: \(allowedValues.joined(separator: ", "))")
            }
            if let pattern, text.range(of: pattern, options: [.regularExpression, .anchored]) == nil {
                throw Invalid("Value \(text) does not match the pattern \(pattern)")
            }
            if let limit = stringLimit { try Self.checkLength(text, limit) }
        case .number(let n):
            if let minimum, n < minimum { throw Invalid("Number is too small: \(Self.text(n)). Min allowed number is \(Self.text(minimum))") }
            if let maximum, n > maximum { throw Invalid("Number is too big: \(Self.text(n)). Max allowed number is \(Self.text(maximum))") }
        default: break
        }
        return value
    }

    private func checkCount(_ count: Int) throws(Invalid) {
        if count > itemLimit { throw Invalid("Number of items must be less than  \(itemLimit). Current size: \(count)") }
    }

    /// A dict or folder key: 1 to ``keyLengthLimit`` characters.
    func checkKey(_ key: String) throws(Invalid) {
        let length = key.unicodeScalars.count
        if length > keyLengthLimit { throw Invalid("Dict key length \(key) must be less than \(keyLengthLimit).") }
        if length < 1 { throw Invalid("Dict key length \(key) must be bigger than 1.") }
    }

    private static func checkLength(_ text: String, _ limit: Int) throws(Invalid) {
        // Python's len: code points.
        let length = text.unicodeScalars.count
        if length > limit { throw Invalid("String length must be less than  \(limit). Current length: \(length)") }
    }

    /// One scalar, as oslo.versionedobjects' field types coerce it.
    static func coerce(_ raw: JSONValue, to kind: Kind, field: String) throws(Invalid) -> JSONValue {
        switch (kind, raw) {
        case (.string, .string), (.boolean, .bool), (.number, .number): return raw
        case (.string, .number(let n)): return .string(text(n))
        case (.string, .bool(let flag)): return .string(flag ? "True" : "False")
        case (.integer, .number(let n)):
            // int(1.9) is 1.
            guard let whole = DecimalText.integer(exactly: n.rounded(.towardZero)) else {
                throw Invalid("an integer must be within ±2^63, not \(text(n))")
            }
            return .number(Double(whole))
        case (.integer, .string(let text)):
            guard let whole = DecimalText.integer(text.trimmingCharacters(in: .whitespaces)) else {
                throw Invalid("invalid literal for int() with base 10: '\(text)'")
            }
            return .number(Double(whole))
        case (.integer, .bool(let flag)), (.number, .bool(let flag)): return .number(flag ? 1 : 0)
        case (.number, .string(let text)):
            guard let n = Double(text.trimmingCharacters(in: .whitespaces)), n.isFinite else {
                throw Invalid("could not convert string to float: '\(text)'")
            }
            return .number(n)
        case (.boolean, .string(let text)): return .bool(ArtifactQuery.isTrue(text))
        case (.boolean, .number(let n)): return .bool(n == 1)
        case (.boolean, _): return .bool(false)
        case (.link, .string(let link)):
            if link.hasPrefix("http") {
                guard let scheme = URL(string: link)?.scheme, ["http", "https"].contains(scheme) else {
                    throw Invalid("Only http and https requests are allowed in url \(link)")
                }
            } else if linkedID(link) == nil {
                throw Invalid(
                    "Link \(link) is not valid in field \(field). The link must be either valid url or reference to artifact. Example: /artifacts/<artifact_type>/<artifact_id>"
                )
            }
            return raw
        case (.integer, _):
            throw Invalid("int() argument must be a string, a bytes-like object or a number, not '\(pythonType(raw))'")
        case (.number, _): throw Invalid("float() argument must be a string or a number, not '\(pythonType(raw))'")
        default: throw Invalid("A string is required in field \(field), not a \(pythonType(raw))")
        }
    }

    /// The artifact id an internal link names (`/artifacts/{type}/{id}`), nil for any other text.
    static func linkedID(_ link: String) -> String? {
        let parts = link.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[1] == "artifacts", let id = parts.last, !id.isEmpty else { return nil }  // checked: count tested
        return String(id)
    }

    /// The internal links a value of this field holds (each must name an existing artifact).
    package func internalLinks(in value: JSONValue) -> [String] {
        guard valueKind == .link else { return [] }
        let items: [JSONValue] =
            switch value {
            case .array(let items): items
            case .object(let entries): Array(entries.values)
            default: [value]
            }
        return items.compactMap { if case .string(let link) = $0, !link.hasPrefix("http") { Self.linkedID(link) } else { nil } }
    }

    /// A number as Python prints it: whole ones without a fraction (JSON does not say whether
    /// `1.0` was an int or a float, so whole numbers read as ints).
    static func text(_ n: Double) -> String { DecimalText.integer(exactly: n).map(String.init) ?? n.description }

    /// The Python type name of a JSON value, as Glare's messages show it.
    static func pythonType(_ value: JSONValue) -> String {
        switch value {
        case .null: "NoneType"
        case .bool: "bool"
        case .number(let n): DecimalText.integer(exactly: n) == nil ? "float" : "int"
        case .string: "str"
        case .array: "list"
        case .object: "dict"
        }
    }
}
