/// A `Range: bytes=…` header of a download, read the way WebOb reads it (RFC 9110 §14.2).
///
/// Only one range is served; a header with several is a 400, as Glance answers. A header that
/// is not a byte range at all (another unit, letters, an end before its start) is ignored and
/// the whole body sent, as WebOb ignores it. Numbers too large for an `Int` saturate, so a
/// range end past the size is clipped to the size and a start past it is unsatisfiable.
package enum ByteRangeHeader {
    package enum Outcome: Equatable, Sendable {
        /// Serve these bytes (never empty, always within the size) with 206.
        case partial(Range<Int>)
        /// Serve the whole body with 200: the header does not name a byte range.
        case ignored
        /// 416: the range starts at or past the end (or asks for the last 0 bytes).
        case unsatisfiable
        /// 400: several ranges.
        case multiple
    }

    package static func parse(_ header: String, size: Int) -> Outcome {
        guard size >= 0 else { return .ignored }
        var text = Substring(header)
        guard let equals = text.firstIndex(of: "=") else { return .ignored }
        guard text[..<equals].trimmingSpaces.lowercased() == "bytes" else { return .ignored }
        text = text[text.index(after: equals)...]
        if text.contains(",") { return .multiple }
        guard let dash = text.firstIndex(of: "-") else { return .ignored }
        let first = text[..<dash].trimmingSpaces
        let second = text[text.index(after: dash)...].trimmingSpaces
        if first.isEmpty {
            guard let suffix = DecimalText.saturating(second) else { return .ignored }
            guard suffix > 0, size > 0 else { return .unsatisfiable }
            return .partial(max(0, size - suffix)..<size)
        }
        guard let start = DecimalText.saturating(first) else { return .ignored }
        let end: Int
        if second.isEmpty {
            end = Int.max
        } else {
            guard let last = DecimalText.saturating(second), last >= start else { return .ignored }
            end = last
        }
        guard start < size else { return .unsatisfiable }
        // `end` may be Int.max: clip before adding one.
        return .partial(start..<(end >= size - 1 ? size : end + 1))
    }

    /// The `Content-Range` value of a served range.
    package static func contentRange(_ range: Range<Int>, size: Int) -> String {
        "bytes \(range.lowerBound)-\(range.upperBound - 1)/\(size)"
    }
}

extension Substring {
    /// Without leading and trailing spaces and tabs (HTTP's optional whitespace).
    var trimmingSpaces: Substring {
        var text = self
        while let first = text.first, first == " " || first == "\t" { text.removeFirst() }
        while let last = text.last, last == " " || last == "\t" { text.removeLast() }
        return text
    }
}
