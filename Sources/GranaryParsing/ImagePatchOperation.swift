import Foundation

/// One operation of a JSON-patch update of an image, in either of Glance's patch media types
/// (`glance/api/v2/images.py`'s `RequestDeserializer`).
package struct ImagePatchOperation: Sendable, Equatable {
    package enum Kind: String, Sendable { case add, replace, remove }
    package let kind: Kind
    /// The JSON pointer, as sent.
    package let path: String
    package let value: JSONValue?

    package init(kind: Kind, path: String, value: JSONValue?) {
        self.kind = kind
        self.path = path
        self.value = value
    }

    /// One patch operation: `{"op","path","value"}` (v2.1) or `{"replace": "/x", "value": …}` (v2.0).
    package init(_ item: JSONValue, draft4: Bool) throws(BadRequest) {
        guard case .object(let object) = item else { throw BadRequest("Operations must be JSON objects.") }
        let kinds: [Kind] = [.add, .replace, .remove]
        if draft4 {
            let present = kinds.filter { object[$0.rawValue] != nil }
            guard present.count == 1, let kind = present.first, case .string(let path)? = object[kind.rawValue] else {
                throw BadRequest("Operation objects must contain exactly one of \"add\", \"remove\", \"replace\".")
            }
            self.init(kind: kind, path: path, value: object["value"])
            return
        }
        guard case .string(let op)? = object["op"], let kind = Kind(rawValue: op) else {
            throw BadRequest("Operation objects must have an \"op\" of add, replace or remove.")
        }
        guard case .string(let path)? = object["path"] else { throw BadRequest("Unable to find `path` in operation.") }
        if kind != .remove && object["value"] == nil { throw BadRequest("Unable to find `value` in operation.") }
        self.init(kind: kind, path: path, value: object["value"])
    }

    /// The attribute a JSON pointer names: one level deep, `~1` → `/`, `~0` → `~`.
    package static func attribute(of path: String) throws(BadRequest) -> String {
        guard path.hasPrefix("/") else { throw BadRequest("Pointer `\(path)` does not start with \"/\".") }
        let segments = path.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
        guard segments.count == 1, let segment = segments.first, !segment.isEmpty else {
            throw BadRequest("Nested paths are not allowed: \(path)")
        }
        if segment.contains("~") {
            var check = segment
            check.replace("~0", with: "")
            check.replace("~1", with: "")
            if check.contains("~") { throw BadRequest("Pointer `\(path)` contains \"~\" not part of a recognized escape sequence.") }
        }
        // Glance strips each token of whitespace after unescaping it.
        let name = segment.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty else { throw BadRequest("Pointer `\(path)` does not contain a valid token.") }
        return name
    }
}
