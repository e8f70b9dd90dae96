import GranaryCodec
import GranaryTesting
import Testing

@Suite struct ZstdTests {
    @Test func compressibleDataRoundTripsSmaller() throws {
        let text = Array(String(repeating: "granary stores images and artifacts; ", count: 2000).utf8)
        let compressor = ZstdCompressor(level: 3)
        let compressed = try compressor.compress(text)
        #expect(compressed.count < text.count / 10)
        let restored = try ZstdDecompressor().decompress(compressed, rawCount: text.count)
        #expect(restored == text)
    }

    @Test func contextsAreReusable() throws {
        let compressor = ZstdCompressor()
        let decompressor = ZstdDecompressor()
        for n in [0, 1, 100, 65_536] {
            let input = (0..<n).map { UInt8(truncatingIfNeeded: $0 / 7) }
            let compressed = try compressor.compress(input)
            #expect(try decompressor.decompress(compressed, rawCount: n) == input)
        }
    }

    @Test func incompressibleDataDoesNotFitARawSizedBuffer() throws {
        let random = randomBytes(65_536, seed: 1)
        var small = [UInt8](repeating: 0, count: random.count - 1)
        let compressor = ZstdCompressor()
        let error = #expect(throws: CodecError.self) {
            try random.withUnsafeBytes { src in
                try small.withUnsafeMutableBytes { dst in _ = try compressor.compress(src, into: dst) }
            }
        }
        #expect(error?.code == .outputTooSmall)
    }

    @Test func corruptFramesAreRejected() throws {
        let text = Array(String(repeating: "abcdefgh", count: 1000).utf8)
        var compressed = try ZstdCompressor().compress(text)
        compressed[compressed.count / 2] ^= 0xff
        compressed[0] ^= 0x55  // break the magic number too
        let error = #expect(throws: CodecError.self) {
            _ = try ZstdDecompressor().decompress(compressed, rawCount: text.count)
        }
        #expect(error?.code == .corruptInput)
    }
}
