import GranaryCodec
import Testing

@Suite struct CRC32CTests {
    @Test func standardCheckValue() {
        // The CRC-32C check value (RFC 3720 appendix / iSCSI) for "123456789".
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([]) == 0)
        // RFC 3720 B.4: 32 bytes of zeros.
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        // RFC 3720 B.4: 32 bytes of 0xff.
        #expect(CRC32C.checksum([UInt8](repeating: 0xff, count: 32)) == 0x62A8_AB43)
    }

    @Test func continuingEqualsWhole() {
        var generator = SplitMix(seed: 3)
        let data = (0..<10_007).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        for split in [0, 1, 5, 8, 4096, 10_006] {
            let first = CRC32C.checksum(Array(data[..<split]))
            #expect(CRC32C.checksum(Array(data[split...]), continuing: first) == CRC32C.checksum(data))
        }
    }

    @Test func detectsASingleFlippedBit() {
        var data = [UInt8](repeating: 0x5a, count: 65_536)
        let before = CRC32C.checksum(data)
        data[40_000] ^= 0x10
        #expect(CRC32C.checksum(data) != before)
    }

    @Test func usesTheHardwareInstructionHere() {
        // Every x86-64 machine this project runs on has SSE4.2; a fallback would be a silent slowdown.
        #expect(CRC32C.isHardwareAccelerated)
    }
}
