import Foundation
import GranaryCodec
import GranaryTesting
import Testing

@Suite(.consistencyChecked) struct DigestTests {
    /// FIPS 180 / RFC 1321 / RFC 3174 vectors for "abc".
    static let abc: [(DigestAlgorithm, String)] = [
        (.md5, "900150983cd24fb0d6963f7d28e17f72"),
        (.sha1, "a9993e364706816aba3e25717850c26c9cd0d89d"),
        (.sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        (.sha384, "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7"),
        (.sha512, "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"),
    ]

    @Test(arguments: abc)
    func knownVectorForABC(_ algorithm: DigestAlgorithm, _ expected: String) {
        #expect(StreamingDigest.hash(algorithm, Array("abc".utf8)).hex == expected)
    }

    @Test func emptyInputAndOneMillionAs() {
        #expect(StreamingDigest.hash(.sha256, []).hex == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(StreamingDigest.hash(.md5, []).hex == "d41d8cd98f00b204e9800998ecf8427e")
        let digest = StreamingDigest(.sha256)
        let thousand = [UInt8](repeating: UInt8(ascii: "a"), count: 1000)
        for _ in 0..<1000 { digest.update(thousand) }
        #expect(digest.finalize().hex == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func piecewiseFeedingEqualsOneShotAndResetReuses() {
        let data = randomBytes(300_001, seed: 42)
        for algorithm in DigestAlgorithm.allCases {
            let digest = StreamingDigest(algorithm)
            var offset = 0
            var piece = 1
            data.withUnsafeBytes { all in
                while offset < all.count {
                    let end = min(all.count, offset + piece)
                    digest.update(UnsafeRawBufferPointer(rebasing: all[offset..<end]))
                    offset = end
                    piece = piece * 3 + 7
                }
            }
            let piecewise = digest.finalize()
            #expect(piecewise == StreamingDigest.hash(algorithm, data))
            // After finalize the context starts over.
            digest.update(Array("abc".utf8))
            #expect(digest.finalize().hex == Self.abc.first { $0.0 == algorithm }?.1)
        }
    }

    @Test func matchesCoreutilsSha256sum() throws {
        let data = Data(randomBytes(1_000_000, seed: 7))
        let path = TemporaryDirectory("granary-digest").path + "/data"
        try data.write(to: URL(fileURLWithPath: path))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        process.arguments = [path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        process.waitUntilExit()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let expected = String(output.prefix(64))
        #expect(StreamingDigest.hash(.sha256, [UInt8](data)).hex == expected)
    }

    @Test func digestSetFeedsEveryAlgorithmOnce() {
        let set = DigestSet([.md5, .sha512])
        Array("abc".utf8).withUnsafeBytes { set.update($0) }
        let result = set.finalize()
        #expect(result.count == 2)
        #expect(result[.md5]?.hex == "900150983cd24fb0d6963f7d28e17f72")
        #expect(result[.sha512]?.hex == Self.abc.last?.1)
    }

    @Test func parsesDigestLists() throws {
        #expect(try DigestAlgorithm.parseList("md5,sha512") == [.md5, .sha512])
        #expect(try DigestAlgorithm.parseList(" SHA256 , md5,sha256") == [.sha256, .md5])
        #expect(try DigestAlgorithm.parseList("none") == [])
        let error = #expect(throws: CodecError.self) { try DigestAlgorithm.parseList("md5,crc") }
        #expect(error?.code == .unknownAlgorithm)
        #expect(error?.message.contains("crc") == true)
    }

    @Test func hexRoundTrips() {
        let bytes: [UInt8] = [0, 1, 0x7f, 0x80, 0xab, 0xff]
        #expect(Hex.encode(bytes) == "00017f80abff")
        #expect(Hex.decode("00017F80ABff") == bytes)
        #expect(Hex.decode("abc") == nil)
        #expect(Hex.decode("zz") == nil)
    }
}
