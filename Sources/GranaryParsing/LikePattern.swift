/// SQL `LIKE` matching (`%` any run of characters, `_` exactly one), as Glare's `like`
/// filter compares through SQLAlchemy.
///
/// The pattern is cut at `%` into pieces; the first must match at the start, the last at the
/// end, and each one between at its leftmost place after the one before. Taking the leftmost
/// place is always right for `%` patterns, so nothing is retried: the work is at most the
/// text's length times the pattern's, with no backtracking (a regular expression of
/// `.*` runs took seconds on one long name).
package struct LikePattern: Sendable {
    /// Longest pattern accepted, in characters (Glare's strings are at most 255).
    package static let maxLength = 255

    let pieces: [[Character]]
    let anchoredStart: Bool
    let anchoredEnd: Bool

    /// Nil when the pattern is longer than ``maxLength``.
    package init?(_ pattern: String) {
        guard pattern.count <= Self.maxLength else { return nil }
        let characters = Array(pattern)
        pieces = characters.split(separator: "%", omittingEmptySubsequences: false).map(Array.init)
        anchoredStart = characters.first != "%"
        anchoredEnd = characters.last != "%"
    }

    package func matches(_ text: String) -> Bool {
        let text = Array(text)
        // No `%`: the one piece is the whole text.
        // checked: split never returns an empty array
        guard pieces.count > 1 else { return text.count == pieces[0].count && Self.matches(pieces[0], text, at: 0) }
        var position = 0
        var remaining = pieces[...]
        var endLimit = text.count
        if anchoredStart, let first = remaining.first {
            guard Self.matches(first, text, at: 0) else { return false }
            position = first.count
            remaining = remaining.dropFirst()
        }
        if anchoredEnd, let last = remaining.last {
            guard last.count <= endLimit - position, Self.matches(last, text, at: text.count - last.count) else { return false }
            endLimit = text.count - last.count
            remaining = remaining.dropLast()
        }
        for piece in remaining where !piece.isEmpty {
            guard let found = Self.find(piece, in: text, from: position, before: endLimit) else { return false }
            position = found + piece.count
        }
        return position <= endLimit
    }

    /// Whether `piece` matches `text` at `offset` (`_` matches any one character).
    static func matches(_ piece: [Character], _ text: [Character], at offset: Int) -> Bool {
        guard offset >= 0, piece.count <= text.count - offset else { return false }
        for (index, character) in piece.enumerated() where character != "_" && text[offset + index] != character { return false }
        return true
    }

    /// The leftmost offset at or after `start` where `piece` matches and ends by `limit`.
    static func find(_ piece: [Character], in text: [Character], from start: Int, before limit: Int) -> Int? {
        var offset = start
        while offset + piece.count <= limit {
            if matches(piece, text, at: offset) { return offset }
            offset += 1
        }
        return nil
    }
}
