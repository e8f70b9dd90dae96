import GranaryParsing
import Testing

@Suite struct ByteRangeTests {
    @Test func rangesWithinTheSize() {
        #expect(ByteRangeHeader.parse("bytes=0-9", size: 100) == .partial(0..<10))
        #expect(ByteRangeHeader.parse("bytes=90-", size: 100) == .partial(90..<100))
        #expect(ByteRangeHeader.parse("bytes=-10", size: 100) == .partial(90..<100))
        #expect(ByteRangeHeader.parse("Bytes = 5 - 6", size: 100) == .partial(5..<7))
    }

    @Test func endsPastTheSizeAreClipped() {
        #expect(ByteRangeHeader.parse("bytes=0-9223372036854775807", size: 100) == .partial(0..<100))
        #expect(ByteRangeHeader.parse("bytes=0-99999999999999999999999", size: 100) == .partial(0..<100))
        #expect(ByteRangeHeader.parse("bytes=-9223372036854775807", size: 100) == .partial(0..<100))
        #expect(ByteRangeHeader.parse("bytes=10-200", size: 100) == .partial(10..<100))
    }

    @Test func unsatisfiableAndMultiple() {
        #expect(ByteRangeHeader.parse("bytes=100-", size: 100) == .unsatisfiable)
        #expect(ByteRangeHeader.parse("bytes=9223372036854775807-", size: 100) == .unsatisfiable)
        #expect(ByteRangeHeader.parse("bytes=-0", size: 100) == .unsatisfiable)
        #expect(ByteRangeHeader.parse("bytes=0-", size: 0) == .unsatisfiable)
        #expect(ByteRangeHeader.parse("bytes=0-1,3-4", size: 100) == .multiple)
    }

    @Test func malformedHeadersAreIgnored() {
        for header in [
            "bytes=abc", "bytes=5-2", "items=0-5", "bytes=", "bytes=--1", "bytes=1-2-3", "bytes=+1-2", "bytes=-", "", "=", "bytes=1", "bytes=٣-٤",
        ] {
            #expect(ByteRangeHeader.parse(header, size: 100) == .ignored, "\(header)")
        }
    }
}

@Suite struct DecimalTextTests {
    @Test func saturatingDigits() {
        #expect(DecimalText.saturating("0") == 0)
        #expect(DecimalText.saturating("9223372036854775807") == Int.max)
        #expect(DecimalText.saturating("9223372036854775808") == Int.max)
        #expect(DecimalText.saturating("") == nil)
        #expect(DecimalText.saturating("-1") == nil)
        #expect(DecimalText.saturating("1 ") == nil)
    }

    @Test func signedIntegers() {
        #expect(DecimalText.integer("-9223372036854775808") == Int.min)
        #expect(DecimalText.integer("9223372036854775807") == Int.max)
        #expect(DecimalText.integer("9223372036854775808") == nil)
        #expect(DecimalText.integer("+5") == 5)
        #expect(DecimalText.integer("-") == nil)
    }

    @Test func jsonNumbers() {
        #expect(DecimalText.integer(exactly: 1e19) == nil)
        #expect(DecimalText.integer(exactly: -1e300) == nil)
        #expect(DecimalText.integer(exactly: 1.5) == nil)
        #expect(DecimalText.integer(exactly: .nan) == nil)
        #expect(DecimalText.integer(exactly: 42) == 42)
        #expect(DecimalText.integer(exactly: 9223372036854775807.0) == nil)  // 2^63 as a Double
    }
}

@Suite struct LikePatternTests {
    func like(_ pattern: String, _ text: String) -> Bool { LikePattern(pattern)!.matches(text) }

    @Test func sqlSemantics() {
        #expect(like("abc", "abc"))
        #expect(!like("abc", "abcd"))
        #expect(like("a%", "abcd"))
        #expect(like("%d", "abcd"))
        #expect(like("%b%", "abcd"))
        #expect(like("a_c", "abc"))
        #expect(!like("a_c", "ac"))
        #expect(like("%", ""))
        #expect(!like("_", ""))
        #expect(like("a%a", "aa"))
        #expect(!like("a%a", "a"))
        #expect(like("%a%b%c%", "xaybzc"))
        #expect(!like("%a%b%c%", "xcybza"))
        #expect(like("a.b", "a.b"))
        #expect(!like("a.b", "aXb"))
        #expect(like("名%", "名前"))
    }

    /// Agrees with a plain backtracking matcher on many small random cases.
    @Test func agreesWithBacktracking() {
        func reference(_ p: [Character], _ t: [Character]) -> Bool {
            guard let first = p.first else { return t.isEmpty }
            if first == "%" { return (0...t.count).contains { reference(Array(p.dropFirst()), Array(t.dropFirst($0))) } }
            guard let c = t.first, first == "_" || first == c else { return false }
            return reference(Array(p.dropFirst()), Array(t.dropFirst()))
        }
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<3000 {
            let pattern = String((0..<Int.random(in: 0...6, using: &generator)).map { _ in "ab%_".randomElement(using: &generator)! })
            let text = String((0..<Int.random(in: 0...7, using: &generator)).map { _ in "ab".randomElement(using: &generator)! })
            #expect(like(pattern, text) == reference(Array(pattern), Array(text)), "\(pattern) ~ \(text)")
        }
    }

    @Test func longPatternsAreRefused() {
        #expect(LikePattern(String(repeating: "%", count: LikePattern.maxLength + 1)) == nil)
    }
}

@Suite struct QueryStringTests {
    @Test func decodesAsWebOb() throws {
        let items = try QueryString.parameters("name=a+b&tag=x%20y&bad=%zz&empty&=v&u=%E5%90%8D")
        #expect(items.map(\.0) == ["name", "tag", "bad", "empty", "", "u"])
        #expect(items.map(\.1) == ["a b", "x y", "%zz", "", "v", "名"])
    }

    @Test func countIsCapped() {
        let many = (0...QueryString.maxParameters).map { "k\($0)=v" }.joined(separator: "&")
        #expect(throws: BadRequest.self) { try QueryString.parameters(many) }
    }

    @Test func identityRolesAreNotDecoded() {
        #expect(IdentityHeaders.roles("reader%2Cadmin") == ["reader%2Cadmin"])
        #expect(IdentityHeaders.roles(" reader , member ,,") == ["reader", "member"])
    }
}

@Suite struct SemanticVersionTests {
    /// Found by the semver fuzzer: a version whose coerced form (`6.0` → `6.0.0`) is longer than
    /// the limit was accepted, and its stored text did not parse back.
    @Test func theStoredFormAlwaysParsesBack() {
        let nearLimit = "6.0-" + String(repeating: "a", count: SemanticVersion.maxLength - 4)
        #expect(nearLimit.utf8.count == SemanticVersion.maxLength)
        #expect(SemanticVersion(nearLimit) == nil)
        let fits = "6.0.0-" + String(repeating: "a", count: SemanticVersion.maxLength - 6)
        #expect(SemanticVersion(fits).flatMap { SemanticVersion($0.description) } == SemanticVersion(fits))
    }

    @Test func longVersionsAreRefused() {
        #expect(SemanticVersion("1.0.0-" + Array(repeating: "1", count: 17).joined(separator: ".")) == nil)
        #expect(SemanticVersion("1.0.0-" + String(repeating: "x", count: 300)) == nil)
    }
}
