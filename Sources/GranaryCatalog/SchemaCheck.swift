import Foundation
import GranaryParsing

/// The JSON-schema keywords Glance's schemas use (`type`, `enum`, `minLength`, `maxLength`,
/// `pattern`, `minimum`, `maximum`, `items`), checked as Python's jsonschema checks them, with
/// its messages: enough to enforce a served schema without a general validator.
enum SchemaCheck {
    /// Why `value` does not match `schema`, or nil when it does.
    static func problem(_ value: JSONValue, _ schema: JSONValue) -> String? {
        guard case .object(let keywords) = schema else { return nil }
        if let types = keywords["type"], !matches(value, types) {
            let names = if case .array(let alternatives) = types { alternatives.map(shown).joined(separator: ", ") } else { shown(types) }
            return "\(shown(value)) is not of type \(names)"
        }
        if case .array(let allowed)? = keywords["enum"], !allowed.contains(value) {
            return "\(shown(value)) is not one of \(shown(.array(allowed)))"
        }
        switch value {
        case .string(let text):
            // jsonschema counts code points, as Python's len().
            let length = text.unicodeScalars.count
            if case .number(let most)? = keywords["maxLength"], Double(length) > most { return "\(shown(value)) is too long" }
            if case .number(let least)? = keywords["minLength"], Double(length) < least { return "\(shown(value)) is too short" }
            if case .string(let pattern)? = keywords["pattern"], !matches(text, pattern) {
                return "\(shown(value)) does not match '\(pattern)'"
            }
        case .number(let number):
            if case .number(let least)? = keywords["minimum"], number < least {
                return "\(shown(value)) is less than the minimum of \(shown(.number(least)))"
            }
            if case .number(let most)? = keywords["maximum"], number > most {
                return "\(shown(value)) is greater than the maximum of \(shown(.number(most)))"
            }
        case .array(let items):
            if let item = keywords["items"] {
                for element in items { if let problem = problem(element, item) { return problem } }
            }
        default: break
        }
        return nil
    }

    private static func matches(_ value: JSONValue, _ types: JSONValue) -> Bool {
        switch types {
        case .string(let type):
            switch (type, value) {
            case ("null", .null), ("boolean", .bool), ("string", .string), ("array", .array), ("object", .object), ("number", .number): true
            case ("integer", .number(let number)): number.rounded() == number
            default: false
            }
        case .array(let alternatives): alternatives.contains { matches(value, $0) }
        default: true
        }
    }

    /// `pattern` searched in `text` (jsonschema uses `re.search`; Glance's patterns are anchored).
    private static func matches(_ text: String, _ pattern: String) -> Bool {
        guard let expression = try? NSRegularExpression(pattern: pattern) else { return true }
        return expression.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }

    /// A value as Python's repr shows it in jsonschema's messages.
    private static func shown(_ value: JSONValue) -> String {
        switch value {
        case .null: "None"
        case .bool(let flag): flag ? "True" : "False"
        case .number(let number): number.rounded() == number && abs(number) < 1e15 ? String(Int(number)) : String(number)  // checked: bounded above
        case .string(let text): "'\(text)'"
        case .array(let items): "[" + items.map(shown).joined(separator: ", ") + "]"
        case .object(let entries): "{" + entries.sorted { $0.key < $1.key }.map { "'\($0.key)': \(shown($0.value))" }.joined(separator: ", ") + "}"
        }
    }
}
