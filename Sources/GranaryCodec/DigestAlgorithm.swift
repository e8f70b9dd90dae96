/// A whole-object digest the APIs report: Glance wants md5 + sha512 (configurable), Glare md5,
/// sha1 and sha256.
package enum DigestAlgorithm: String, Sendable, CaseIterable, Hashable, Codable, CustomStringConvertible {
    case md5, sha1, sha256, sha384, sha512

    /// Output length in bytes.
    package var byteCount: Int {
        switch self {
        case .md5: 16
        case .sha1: 20
        case .sha256: 32
        case .sha384: 48
        case .sha512: 64
        }
    }

    package var description: String { rawValue }

    /// Parses a comma-separated list such as `md5,sha512`; `none` (or an empty string) is no digest.
    package static func parseList(_ text: String) throws(CodecError) -> [DigestAlgorithm] {
        let names = text.split(separator: ",").map { $0.filter { !$0.isWhitespace }.lowercased() }
        if names.isEmpty || names == ["none"] { return [] }
        var result: [DigestAlgorithm] = []
        for name in names {
            guard let algorithm = DigestAlgorithm(rawValue: name) else {
                throw CodecError(.unknownAlgorithm, "unknown digest '\(name)': use md5, sha1, sha256, sha384, sha512 or none")
            }
            if !result.contains(algorithm) { result.append(algorithm) }
        }
        return result
    }
}
