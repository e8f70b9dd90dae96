/// Numbers read from request text without a way to trap: every conversion of request input to
/// an integer goes through here or through `Int(exactly:)`.
package enum DecimalText {
    /// ASCII digits only (no sign, no spaces), nil for anything else or an empty string;
    /// values past `Int.max` are `Int.max`.
    package static func saturating(_ text: some StringProtocol) -> Int? {
        guard !text.isEmpty else { return nil }
        var value = 0
        for byte in text.utf8 {
            guard byte >= 0x30 && byte <= 0x39 else { return nil }
            let (shifted, overflowA) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflowB) = shifted.addingReportingOverflow(Int(byte &- 0x30))  // checked: a byte widens
            if overflowA || overflowB { return Int.max }
            value = sum
        }
        return value
    }

    /// An optional sign and ASCII digits; nil when malformed or outside `Int` (the standard
    /// library's parse, which never traps).
    package static func integer(_ text: some StringProtocol) -> Int? {
        Int(text)  // checked: String → Int returns nil on overflow
    }

    /// A JSON number as an integer: nil unless it is whole and within `Int`.
    package static func integer(exactly number: Double) -> Int? {
        guard number.isFinite, number == number.rounded() else { return nil }
        return Int(exactly: number)
    }
}
