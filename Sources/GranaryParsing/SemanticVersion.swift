import Foundation

/// A semantic version (semver 2.0) as Glare stores artifact versions: `major.minor.patch`,
/// optional pre-release identifiers and build metadata. Input is coerced as Glare coerces it
/// (`1` and `1.0` become `1.0.0`).
///
/// ``orderKey`` is bytes whose lexicographic order is semver precedence, so LMDB key order
/// lists versions in order: numeric parts big-endian, a release above all of its pre-releases,
/// numeric pre-release identifiers below alphanumeric ones, a shorter identifier list below a
/// longer one with the same prefix. Build metadata is not part of the order but is part of the
/// version (`1.0.0+a` and `1.0.0+b` are different versions of equal precedence).
package struct SemanticVersion: Sendable, Hashable, Comparable, CustomStringConvertible {
    package let major: Int
    package let minor: Int
    package let patch: Int
    package let prerelease: [String]
    package let build: [String]

    /// Largest component kept (Glare packs each in 16 bits).
    package static let maxComponent = 65535
    /// Longest version text and most pre-release identifiers accepted: a version is part of
    /// LMDB keys (its ``orderKey``), which must stay under 511 bytes with the name beside it.
    package static let maxLength = 127
    package static let maxPrereleaseIdentifiers = 16

    /// Parses and coerces `text`; nil when it is not a version.
    package init?(_ text: String) {
        guard text.utf8.count <= Self.maxLength else { return nil }
        var rest = Substring(text.trimmingCharacters(in: .whitespaces))
        var build: [String] = []
        if let plus = rest.firstIndex(of: "+") {
            build = rest[rest.index(after: plus)...].split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            rest = rest[..<plus]
            guard build.allSatisfy({ !$0.isEmpty && $0.allSatisfy(Self.isIdentifierCharacter) }) else { return nil }
        }
        var prerelease: [String] = []
        if let dash = rest.firstIndex(of: "-") {
            prerelease = rest[rest.index(after: dash)...].split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            rest = rest[..<dash]
            guard prerelease.count <= Self.maxPrereleaseIdentifiers,
                prerelease.allSatisfy({ !$0.isEmpty && $0.allSatisfy(Self.isIdentifierCharacter) })
            else { return nil }
            // Numeric identifiers have no leading zeros (semver §9).
            guard prerelease.allSatisfy({ !($0.count > 1 && $0.hasPrefix("0") && $0.allSatisfy(\.isASCIIDigit)) }) else { return nil }
        }
        let parts = rest.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...3).contains(parts.count) else { return nil }
        var numbers: [Int] = []
        for part in parts {
            guard !part.isEmpty, part.allSatisfy(\.isASCIIDigit), part.count <= 5, let value = Int(part),  // checked: five digits at most
                value <= Self.maxComponent
            else {
                return nil
            }
            numbers.append(value)
        }
        while numbers.count < 3 { numbers.append(0) }
        (major, minor, patch) = (numbers[0], numbers[1], numbers[2])  // checked: filled to three above
        self.prerelease = prerelease
        self.build = build
        // Coercion lengthens the text (`1` → `1.0.0`): the stored form must parse again too.
        guard description.utf8.count <= Self.maxLength else { return nil }
    }

    static func isIdentifierCharacter(_ c: Character) -> Bool { c.isASCII && (c.isLetter || c.isNumber || c == "-") }

    package var description: String {
        var text = "\(major).\(minor).\(patch)"
        if !prerelease.isEmpty { text += "-" + prerelease.joined(separator: ".") }
        if !build.isEmpty { text += "+" + build.joined(separator: ".") }
        return text
    }

    /// Bytes in semver precedence order (build metadata left out).
    package var orderKey: [UInt8] {
        var key: [UInt8] = []
        // checked: components are at most 65535, so each half is a byte
        for value in [major, minor, patch] { key += [UInt8(value >> 8), UInt8(value & 0xFF)] }
        guard !prerelease.isEmpty else { return key + [0x02] }
        key.append(0x01)
        for identifier in prerelease {
            if identifier.allSatisfy(\.isASCIIDigit), let number = UInt64(identifier) {  // checked: a string parse, nil on overflow
                key.append(0x01)
                key += withUnsafeBytes(of: number.bigEndian, Array.init)
            } else {
                key.append(0x02)
                key += Array(identifier.utf8)
                key.append(0x00)
            }
        }
        return key + [0x00]
    }

    package static func < (a: SemanticVersion, b: SemanticVersion) -> Bool { a.orderKey.lexicographicallyPrecedes(b.orderKey) }

    /// Same precedence (build metadata ignored), as semver defines equality of precedence.
    package func hasSamePrecedence(as other: SemanticVersion) -> Bool { orderKey == other.orderKey }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
