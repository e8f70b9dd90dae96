import GranaryCodec
import GranaryTesting
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
        let data = randomBytes(10_007, seed: 3)
        for split in [0, 1, 5, 8, 4096, 10_006] {
            let first = CRC32C.checksum(Array(data[..<split]))
            #expect(CRC32C.checksum(Array(data[split...]), continuing: first) == CRC32C.checksum(data))
        }
    }

    /// The three-stream hardware path (blocks of 3 × 8 KiB and 3 × 256 B, then single words and
    /// bytes) against a bitwise reference, for lengths and alignments around every block edge.
    @Test func matchesABitwiseReferenceAtEveryBlockEdge() {
        func reference(_ bytes: ArraySlice<UInt8>) -> UInt32 {
            var crc: UInt32 = 0xFFFF_FFFF
            for byte in bytes {
                crc ^= UInt32(byte)
                for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
            }
            return ~crc
        }
        let data = randomBytes(80_000, seed: 11)
        let lengths = [0, 1, 7, 8, 9, 767, 768, 769, 1_536, 24_575, 24_576, 24_577, 24_576 + 768 + 13, 49_152, 65_536, 79_990]
        for offset in [0, 1, 3, 8] {
            for length in lengths {
                let slice = data[offset..<(offset + length)]
                #expect(slice.withUnsafeBytes { CRC32C.checksum($0) } == reference(slice), "offset \(offset), length \(length)")
            }
        }
    }

    /// The fused copy-and-checksum gives the plain checksum and copies exactly the source's
    /// bytes, not one more, at every block edge and misalignment of source or destination.
    @Test func copyingChecksumsAndCopiesExactly() {
        let data = randomBytes(80_000, seed: 12)
        let lengths = [0, 1, 7, 8, 9, 767, 768, 769, 24_575, 24_576, 24_577, 24_576 + 768 + 13, 65_536, 79_990]
        var target = [UInt8](repeating: 0xEE, count: 80_016)
        for (sourceOffset, targetOffset) in [(0, 0), (1, 0), (0, 5), (3, 8), (8, 3)] {
            for length in lengths {
                let slice = data[sourceOffset..<(sourceOffset + length)]
                for i in target.indices { target[i] = 0xEE }
                let crc = slice.withUnsafeBytes { source in
                    target.withUnsafeMutableBytes { out in
                        CRC32C.checksum(copying: source, to: UnsafeMutableRawBufferPointer(rebasing: out[targetOffset...]), continuing: 7)
                    }
                }
                let place = "source +\(sourceOffset), target +\(targetOffset), length \(length)"
                #expect(crc == slice.withUnsafeBytes { CRC32C.checksum($0, continuing: 7) }, "\(place)")
                #expect(target[targetOffset..<(targetOffset + length)].elementsEqual(slice), "\(place)")
                #expect(target[..<targetOffset].allSatisfy { $0 == 0xEE } && target[(targetOffset + length)...].allSatisfy { $0 == 0xEE }, "\(place)")
            }
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
