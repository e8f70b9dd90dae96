import Foundation

/// RFC 6902 JSON Patch over a ``JSONValue`` document, with RFC 6901 pointers: `add`, `remove`,
/// `replace`, `move`, `copy` and `test`. A failed operation leaves the caller's document as it
/// was (the patch is applied to a copy); errors are 400s naming the operation.
package enum JSONPatch {

    package static func apply(_ patch: JSONValue, to document: JSONValue) throws -> JSONValue {
        guard case .array(let operations) = patch else {
            throw BadRequest("A JSON patch is a list of operation objects (RFC 6902).")
        }
        var result = document
        for (number, operation) in operations.enumerated() {
            guard case .object(let fields) = operation, case .string(let op)? = fields["op"], case .string(let path)? = fields["path"] else {
                throw BadRequest("Patch operation \(number) needs string 'op' and 'path'.")
            }
            let pointer = try tokens(path)
            func from() throws -> [String] {
                guard case .string(let text)? = fields["from"] else { throw BadRequest("Patch operation \(op) needs 'from'.") }
                return try tokens(text)
            }
            func value() throws -> JSONValue {
                guard let value = fields["value"] else { throw BadRequest("Patch operation \(op) needs 'value'.") }
                return value
            }
            switch op {
            case "add": try insert(try value(), at: pointer, in: &result)
            case "remove": _ = try remove(at: pointer, in: &result)
            case "replace":
                _ = try remove(at: pointer, in: &result)
                try insert(try value(), at: pointer, in: &result)
            case "move":
                let source = try from()
                if pointer.starts(with: source) && pointer.count > source.count {
                    throw BadRequest("Cannot move \(path) into itself.")
                }
                let moved = try remove(at: source, in: &result)
                try insert(moved, at: pointer, in: &result)
            case "copy": try insert(try get(try from(), in: result), at: pointer, in: &result)
            case "test":
                guard try get(pointer, in: result) == (try value()) else {
                    throw BadRequest("Patch test failed at \(path).")
                }
            default: throw BadRequest("Unknown patch operation '\(op)'.")
            }
        }
        return result
    }

    /// The reference tokens of a JSON pointer (`/a/b~1c` → ["a", "b/c"]).
    package static func tokens(_ pointer: String) throws -> [String] {
        guard pointer.isEmpty || pointer.hasPrefix("/") else { throw BadRequest("Invalid JSON pointer '\(pointer)'.") }
        return try pointer.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map { token in
            // `~` only as `~0` or `~1` (RFC 6901 §3).
            var rest = token[...]
            while let tilde = rest.firstIndex(of: "~") {
                let next = rest.index(after: tilde)
                guard next < rest.endIndex, rest[next] == "0" || rest[next] == "1" else {
                    throw BadRequest("Pointer '\(pointer)' has a '~' that is not ~0 or ~1.")
                }
                rest = rest[rest.index(after: next)...]
            }
            return token.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
        }
    }

    static func missing(_ tokens: [String]) -> BadRequest {
        BadRequest("Path /\(tokens.joined(separator: "/")) does not exist in the artifact.")
    }

    static func get(_ tokens: [String], in document: JSONValue) throws -> JSONValue {
        var current = document
        for token in tokens {
            switch current {
            case .object(let fields):
                guard let next = fields[token] else { throw missing(tokens) }
                current = next
            case .array(let items):
                guard let index = DecimalText.saturating(token), items.indices.contains(index) else { throw missing(tokens) }
                current = items[index]
            default: throw missing(tokens)
            }
        }
        return current
    }

    static func insert(_ value: JSONValue, at tokens: [String], in document: inout JSONValue) throws {
        guard let last = tokens.last else {
            document = value
            return
        }
        try update(Array(tokens.dropLast()), in: &document) { parent in
            switch parent {
            case .object(var fields):
                fields[last] = value
                parent = .object(fields)
            case .array(var items):
                if last == "-" {
                    items.append(value)
                } else {
                    guard let index = DecimalText.saturating(last), (0...items.count).contains(index) else { throw missing(tokens) }
                    items.insert(value, at: index)
                }
                parent = .array(items)
            default: throw missing(tokens)
            }
        }
    }

    static func remove(at tokens: [String], in document: inout JSONValue) throws -> JSONValue {
        guard let last = tokens.last else { throw BadRequest("Cannot remove the whole artifact.") }
        var removed: JSONValue = .null
        try update(Array(tokens.dropLast()), in: &document) { parent in
            switch parent {
            case .object(var fields):
                guard let value = fields.removeValue(forKey: last) else { throw missing(tokens) }
                removed = value
                parent = .object(fields)
            case .array(var items):
                guard let index = DecimalText.saturating(last), items.indices.contains(index) else { throw missing(tokens) }
                removed = items.remove(at: index)
                parent = .array(items)
            default: throw missing(tokens)
            }
        }
        return removed
    }

    /// Runs `change` on the value at `tokens`, writing it back into the document.
    static func update(_ tokens: [String], in document: inout JSONValue, _ change: (inout JSONValue) throws -> Void) throws {
        guard let first = tokens.first else {
            try change(&document)
            return
        }
        let rest = Array(tokens.dropFirst())
        switch document {
        case .object(var fields):
            guard var child = fields[first] else { throw missing(tokens) }
            try update(rest, in: &child, change)
            fields[first] = child
            document = .object(fields)
        case .array(var items):
            guard let index = DecimalText.saturating(first), items.indices.contains(index) else { throw missing(tokens) }
            try update(rest, in: &items[index], change)
            document = .array(items)
        default: throw missing(tokens)
        }
    }
}
