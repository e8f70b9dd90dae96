/// A request's query string as WebOb reads it: `&`-separated `name=value` pairs in order,
/// `+` a space, `%XX` a byte (a `%` not followed by two hex digits stays as it is), UTF-8
/// decoded with replacement. A name without `=` has the empty value.
package enum QueryString {
    /// Most parameters one request may carry (Glance's clients send a handful).
    package static let maxParameters = 100

    package static func parameters(_ query: String) throws(BadRequest) -> [(String, String)] {
        var result: [(String, String)] = []
        for pair in Array(query.utf8).split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            guard result.count < maxParameters else { throw BadRequest("A request may carry at most \(maxParameters) query parameters.") }
            if let equals = pair.firstIndex(of: UInt8(ascii: "=")) {
                result.append((decode(pair[..<equals]), decode(pair[pair.index(after: equals)...])))
            } else {
                result.append((decode(pair[...]), ""))
            }
        }
        return result
    }

    /// `+` as a space, then percent-decoding.
    static func decode(_ bytes: ArraySlice<UInt8>) -> String {
        PercentDecoding.decode(bytes, plusIsSpace: true)
    }
}

/// Percent-decoding of URL text (`%XX` → one byte; anything else kept), to UTF-8 with
/// replacement of invalid sequences. Never fails, never traps.
package enum PercentDecoding {
    package static func decode(_ text: some StringProtocol) -> String {
        decode(Array(text.utf8)[...], plusIsSpace: false)
    }

    static func decode(_ bytes: ArraySlice<UInt8>, plusIsSpace: Bool) -> String {
        guard bytes.contains(where: { $0 == UInt8(ascii: "%") || (plusIsSpace && $0 == UInt8(ascii: "+")) }) else {
            return String(decoding: bytes, as: UTF8.self)
        }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: "%"), bytes.endIndex - index > 2, let h = hexValue(bytes[index + 1]), let l = hexValue(bytes[index + 2]) {
                out.append(h << 4 | l)
                index += 3
                continue
            }
            out.append(plusIsSpace && byte == UInt8(ascii: "+") ? UInt8(ascii: " ") : byte)
            index += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
