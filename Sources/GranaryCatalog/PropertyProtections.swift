import Foundation

/// Glance's property protections (`property_protection_file`, the `roles` rule format): who may
/// create, read, update and delete which custom image properties.
///
/// The file is INI: each section name is a regular expression, searched for in a property's name
/// (unanchored, as Python's `re.search`); the first section that matches, in file order, decides.
/// Its `create`, `read`, `update` and `delete` keys list roles (comma-separated, any case); `@`
/// allows everyone, `!` nobody, and a missing key allows nobody, as does a property that no
/// section matches. Base attributes (name, visibility, …) are never subject to these rules.
/// A property the caller may not read is left out of what it is shown and, to that caller,
/// does not exist.
package struct PropertyProtections: Sendable {
    package enum Operation: String, Sendable, CaseIterable {
        case create, read, update, delete
    }

    struct Rule: @unchecked Sendable {
        // Safe because NSRegularExpression is immutable and documented as thread-safe.
        let pattern: NSRegularExpression
        let roles: [Operation: Set<String>]
    }

    let rules: [Rule]

    /// Why a protections file was refused: the file, the line and what is wrong there.
    package struct Invalid: Error, CustomStringConvertible {
        package let description: String
    }

    /// Parses a protections file's text; `file` names it in errors.
    package init(parsing text: String, file: String) throws(Invalid) {
        struct Section {
            let name: String
            let line: Int
            var values: [String: String] = [:]
        }
        var sections: [Section] = []
        for (number, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") && line.hasSuffix("]") && line.count > 2 {
                sections.append(Section(name: String(line.dropFirst().dropLast()), line: number + 1))
                continue
            }
            guard let equals = line.firstIndex(where: { $0 == "=" || $0 == ":" }) else {
                throw Invalid(description: "\(file):\(number + 1): expected [regex] or key = roles, found '\(line)'")
            }
            guard !sections.isEmpty else {
                throw Invalid(description: "\(file):\(number + 1): '\(line)' comes before any [section]")
            }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            guard Operation(rawValue: key) != nil else {
                throw Invalid(description: "\(file):\(number + 1): unknown operation '\(key)' (create, read, update or delete)")
            }
            sections[sections.count - 1].values[key] = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
        }
        var rules: [Rule] = []
        for section in sections where section.name != "DEFAULT" {
            let pattern: NSRegularExpression
            do {
                pattern = try NSRegularExpression(pattern: section.name)
            } catch {
                throw Invalid(description: "\(file):\(section.line): section [\(section.name)] is not a valid regular expression")
            }
            var roles: [Operation: Set<String>] = [:]
            for operation in Operation.allCases {
                let listed = (section.values[operation.rawValue] ?? "").split(separator: ",")
                roles[operation] = Set(listed.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.filter { !$0.isEmpty })
            }
            rules.append(Rule(pattern: pattern, roles: roles))
        }
        self.rules = rules
    }

    /// Reads and parses the file at `path`.
    package init(contentsOf path: String) throws(Invalid) {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw Invalid(description: "cannot read property protection file \(path): \(error.localizedDescription)")
        }
        try self.init(parsing: text, file: path)
    }

    /// Whether `caller` may do `operation` on the custom property `name`.
    package func allows(_ operation: Operation, _ name: String, _ caller: Caller) -> Bool {
        let range = NSRange(name.startIndex..., in: name)
        guard let rule = rules.first(where: { $0.pattern.firstMatch(in: name, range: range) != nil }) else { return false }
        let roles = rule.roles[operation] ?? []
        if roles.contains("!") { return false }
        if roles.contains("@") { return true }
        return !roles.isDisjoint(with: caller.roles)
    }
}
