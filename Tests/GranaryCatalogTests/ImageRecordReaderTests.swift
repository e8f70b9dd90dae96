import Foundation
import Testing

@testable import GranaryIndex

/// The record reader against `JSONDecoder`, the definition of the stored format: random records
/// (every optional present or not, escapes, non-ASCII, surrogate pairs, staged data) read the same
/// both ways, and bytes the reader does not expect are left to `JSONDecoder`.
@Suite struct ImageRecordReaderTests {
    static let texts = [
        "", "alpha", "a \"quoted\" name", "back\\slash", "slash/and/more", "tab\tnew\nline\r", "bell\u{07}nul\u{00}",
        "ünïcødé", "日本語", "emoji 🚀 and 🧪", "\u{7F}\u{80}\u{2028}",
    ]

    static func randomRecord(_ rng: inout SystemRandomNumberGenerator) -> ImageRecord {
        func text() -> String { texts.randomElement(using: &rng)! + String(Int.random(in: 0..<1000, using: &rng)) }
        func maybe<T>(_ value: @autoclosure () -> T) -> T? { Bool.random(using: &rng) ? value() : nil }
        var record = ImageRecord(id: UUID().uuidString.lowercased(), owner: maybe(text()), now: Int.random(in: 0..<2_000_000_000, using: &rng))
        record.name = maybe(text())
        record.status = ImageStatus.allCases.randomElement(using: &rng)!
        record.visibility = ImageVisibility.allCases.randomElement(using: &rng)!
        record.protected = Bool.random(using: &rng)
        record.osHidden = Bool.random(using: &rng)
        record.checksum = maybe(String(repeating: "ab", count: 16))
        record.osHashAlgo = maybe("sha512")
        record.osHashValue = maybe(String(repeating: "0f", count: 64))
        record.size = maybe(Int.random(in: 0..<Int.max, using: &rng))
        record.virtualSize = maybe(-Int.random(in: 0..<5, using: &rng))
        record.containerFormat = maybe("bare")
        record.diskFormat = maybe("qcow2")
        record.minDisk = Int.random(in: 0..<100, using: &rng)
        record.minRam = Int.random(in: 0..<100_000, using: &rng)
        record.tags = (0..<Int.random(in: 0..<4, using: &rng)).map { _ in text() }
        record.properties = Dictionary((0..<Int.random(in: 0..<5, using: &rng)).map { _ in (text(), text()) }, uniquingKeysWith: { a, _ in a })
        record.updatedAt = record.createdAt + Int.random(in: 0..<1000, using: &rng)
        record.blob = maybe(String(repeating: "c", count: 64))
        if Bool.random(using: &rng) {
            record.staged = StagedData(
                blob: String(repeating: "d", count: 64), size: Int.random(in: 0..<1 << 40, using: &rng), checksum: maybe("e"),
                osHashAlgo: "sha256", osHashValue: maybe("f"), stagedAt: Int.random(in: 0..<2_000_000_000, using: &rng),
                virtualSize: maybe(Int.random(in: 0..<1 << 40, using: &rng)))
        }
        return record
    }

    @Test func readsWhatTheEncoderWroteAsJSONDecoderDoes() throws {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let record = Self.randomRecord(&rng)
            let bytes = try record.encoded()
            let fast = bytes.withUnsafeBytes { ImageRecordReader.read($0) }
            let reference = try JSONDecoder().decode(ImageRecord.self, from: Data(bytes))
            #expect(reference == record)
            #expect(fast == record, "\(String(decoding: bytes, as: UTF8.self))")
        }
    }

    @Test func leavesWhatItDoesNotExpectToJSONDecoder() throws {
        var rng = SystemRandomNumberGenerator()
        let record = Self.randomRecord(&rng)
        var object = try JSONSerialization.jsonObject(with: Data(try record.encoded())) as! [String: Any]
        object["addedLater"] = ["x": 1]
        let withNewKey = try JSONSerialization.data(withJSONObject: object)
        #expect(withNewKey.withUnsafeBytes { ImageRecordReader.read($0) } == nil)
        #expect(try withNewKey.withUnsafeBytes { try ImageRecord.decode($0) } == record)

        let spaced = Data(
            """
              {
            "id" : "x", "status":"queued","visibility":"shared","protected":false,"osHidden":true,"minDisk":0,
            "minRam":1,"tags":[ ],"properties":{ },"createdAt":5,"updatedAt":6, "name": null }

            """.utf8)
        let read = try #require(spaced.withUnsafeBytes { ImageRecordReader.read($0) })
        #expect(read.id == "x" && read.osHidden && read.minRam == 1 && read.name == nil && read.updatedAt == 6)

        for bad in [
            "", "{", "[]", "{\"id\":1}", "{\"id\":\"x\"}", "{\"id\":\"\\q\"}", "{\"id\":\"\\ud800\"}", "{\"minDisk\":1.5}",
            "{\"minDisk\":99999999999999999999}", "{\"protected\":nul}", "{\"id\":\"x\"} trailing", "{\"id\":\"\u{01}\"}",
        ] {
            let bytes = Data(bad.utf8)
            #expect(bytes.withUnsafeBytes { ImageRecordReader.read($0) } == nil, "\(bad)")
            #expect(throws: (any Error).self) { try bytes.withUnsafeBytes { try ImageRecord.decode($0) } }
        }
    }

    /// Found by the record fuzzer (tools/fuzz/run record): a key given twice and a number with
    /// a leading zero were read where JSONDecoder reads otherwise; the reader leaves them to it.
    @Test func leavesDuplicatesAndLeadingZerosToJSONDecoder() throws {
        let base =
            #""id":"x","status":"queued","visibility":"shared","protected":false,"osHidden":true,"minDisk":0,"minRam":1,"#
            + #""tags":[],"createdAt":5"#
        for odd in [
            "{\(base),\"properties\":{},\"updatedAt\":06}", "{\(base),\"properties\":{},\"updatedAt\":6,\"status\":\"active\"}",
            "{\(base),\"properties\":{\"k\":\"a\",\"k\":\"b\"},\"updatedAt\":6}",
        ] {
            #expect(Data(odd.utf8).withUnsafeBytes { ImageRecordReader.read($0) } == nil, "\(odd)")
        }
        let plain = Data("{\(base),\"properties\":{},\"updatedAt\":60}".utf8)
        #expect(plain.withUnsafeBytes { ImageRecordReader.read($0) }?.updatedAt == 60)
    }
}
