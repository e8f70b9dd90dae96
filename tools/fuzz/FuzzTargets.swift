// libFuzzer entry point for the request parsers (GranaryParsing) and the image record reader,
// built by tools/fuzz with `swiftc -sanitize=fuzzer,address` from those sources alone. The
// target is chosen by the FUZZ_TARGET environment variable; each one checks properties of the
// result as well as "does not trap".
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: count))
    let text = String(decoding: bytes, as: UTF8.self)
    switch FuzzTarget.current {
    case .range: fuzzRange(bytes)
    case .query: fuzzQuery(text)
    case .json: fuzzJSON(bytes)
    case .like: fuzzLike(text)
    case .semver: fuzzSemver(text)
    case .patch: fuzzPatch(bytes)
    case .url: fuzzURL(text)
    case .record: fuzzRecord(bytes)
    }
    return 0
}

enum FuzzTarget: String, CaseIterable {
    case range, query, json, like, semver, patch, url, record

    static let current: FuzzTarget = {
        guard let name = ProcessInfo.processInfo.environment["FUZZ_TARGET"], let target = FuzzTarget(rawValue: name) else {
            fatalError("set FUZZ_TARGET to one of \(FuzzTarget.allCases.map(\.rawValue))")
        }
        return target
    }()
}

func require(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError(message()) }
}

/// First two bytes: the body size; the rest: the header.
func fuzzRange(_ bytes: [UInt8]) {
    guard bytes.count >= 2 else { return }
    let size = Int(bytes[0]) << 8 | Int(bytes[1])
    let header = String(decoding: bytes.dropFirst(2), as: UTF8.self)
    if case .partial(let range) = ByteRangeHeader.parse(header, size: size) {
        require(!range.isEmpty && range.lowerBound >= 0 && range.upperBound <= size, "\(header) → \(range) for \(size)")
        _ = ByteRangeHeader.contentRange(range, size: size)
    }
}

/// A query string, decoded, then read as an image list and as an artifact list request.
func fuzzQuery(_ text: String) {
    if let items = try? QueryString.parameters(text) {
        require(items.count <= QueryString.maxParameters, "too many parameters")
        if let query = try? ImageQuery(parameters: items) {
            require((0...1000).contains(query.limit), "limit \(query.limit)")
        }
        let fields: (String) -> ArtifactQuery.FieldRules? = { name in
            name.hasPrefix("int") ? .init(operators: ["eq", "gt", "lt", "in"], sortable: true, values: .integer)
                : name.hasPrefix("str") ? .init(operators: ["eq", "like", "in"], sortable: false)
                : name.hasPrefix("dict") ? .init(operators: ["eq", "in"], sortable: false, values: .integer, shape: .dict)
                : name.hasPrefix("list") ? .init(operators: ["eq", "in"], sortable: false, shape: .list) : nil
        }
        if let query = try? ArtifactQuery(parameters: items, fields: fields) {
            require((0...1000).contains(query.limit), "limit \(query.limit)")
            for filter in query.filters where filter.op != "in" { require(filter.items == [filter.value], "items of \(filter.op)") }
        }
    }
    _ = IdentityHeaders.roles(text)
    _ = PercentDecoding.decode(text)
    _ = DecimalText.saturating(text)
    _ = DecimalText.integer(text)
}

/// What parses is written out again and reads back the same.
func fuzzJSON(_ bytes: [UInt8]) {
    guard let value = try? JSONText.parse(bytes) else { return }
    guard let encoded = try? JSONEncoder().encode(value) else { return }
    let again = try? JSONText.parse(Array(encoded))
    require(again == value, "round trip changed \(value)")
}

/// Pattern and text split at the first NUL; short ones are checked against backtracking.
func fuzzLike(_ text: String) {
    let parts = text.split(separator: "\0", maxSplits: 1, omittingEmptySubsequences: false)
    guard parts.count == 2, let pattern = LikePattern(String(parts[0])) else { return }
    let subject = String(parts[1])
    let answer = pattern.matches(subject)
    if parts[0].count <= 10 && subject.count <= 12 {
        require(answer == backtrackingLike(Array(parts[0]), Array(subject)), "\(parts[0]) ~ \(subject)")
    }
}

func backtrackingLike(_ p: [Character], _ t: [Character]) -> Bool {
    guard let first = p.first else { return t.isEmpty }
    if first == "%" { return (0...t.count).contains { backtrackingLike(Array(p.dropFirst()), Array(t.dropFirst($0))) } }
    guard let c = t.first, first == "_" || first == c else { return false }
    return backtrackingLike(Array(p.dropFirst()), Array(t.dropFirst()))
}

func fuzzSemver(_ text: String) {
    guard let version = SemanticVersion(text) else { return }
    guard let again = SemanticVersion(version.description) else { fatalError("\(version) does not parse back") }
    require(again == version, "\(text) → \(version) → \(again)")
    _ = version.orderKey
}

/// The input is a patch (JSON) applied to a fixed document with objects, lists and scalars.
func fuzzPatch(_ bytes: [UInt8]) {
    guard let patch = try? JSONText.parse(bytes) else { return }
    let document = JSONValue.object([
        "a": .array([.string("x"), .number(1), .object(["b": .null])]), "c": .object(["d~e": .bool(true), "f/g": .string("h")]),
        "n": .number(2),
    ])
    _ = try? JSONPatch.apply(patch, to: document)
    // The same operations as a Glance image patch, in both media types.
    if case .array(let items) = patch {
        for item in items {
            for draft4 in [false, true] {
                if let operation = try? ImagePatchOperation(item, draft4: draft4) {
                    _ = try? ImagePatchOperation.attribute(of: operation.path)
                }
            }
        }
    }
}

func fuzzURL(_ text: String) {
    for (http, ports) in [(true, nil), (false, Set([80, 443]))] as [(Bool, Set<Int>?)] {
        if let url = try? FetchURL(text, allowHTTP: http, allowedPorts: ports) {
            require((1...65535).contains(url.port) && !url.host.isEmpty, "\(text) → \(url)")
            require(http || url.scheme == "https", "\(text): http while not allowed")
        }
    }
}

/// The fast record reader agrees with JSONDecoder wherever it answers.
func fuzzRecord(_ bytes: [UInt8]) {
    let fast = bytes.withUnsafeBytes { ImageRecordReader.read($0) }
    guard let fast else { return }
    let slow = try? JSONDecoder().decode(ImageRecord.self, from: Data(bytes))
    require(slow == fast, "the reader and JSONDecoder disagree on \(String(decoding: bytes, as: UTF8.self))")
}
