import GranaryCodec
import GranaryTesting
import Testing

@Suite struct GearChunkerTests {
    @Test func chunkSizesRespectTheLimitsAndAverageNearTheTarget() {
        let data = randomBytes(16 << 20, seed: 11)
        let lengths = data.withUnsafeBytes { GearChunker.chunkLengths(of: $0) }
        let p = ChunkerParameters.standard
        #expect(lengths.reduce(0, +) == data.count)
        #expect(lengths.dropLast().allSatisfy { $0 >= p.minSize && $0 <= p.maxSize })
        let average = data.count / lengths.count
        // Normalized chunking with min 16K lands near (a little above) the 64 KiB target.
        #expect(average > 48 << 10 && average < 96 << 10, "average \(average)")
    }

    @Test func boundariesDoNotDependOnHowTheStreamIsFed() {
        let data = randomBytes(3 << 20, seed: 5)
        let whole = data.withUnsafeBytes { GearChunker.chunkLengths(of: $0) }
        for pieceSize in [1, 777, 65_536, 1 << 20] {
            var chunker = GearChunker()
            var lengths: [Int] = []
            var chunkStart = 0
            var offset = 0
            data.withUnsafeBytes { all in
                while offset < all.count {
                    let piece = UnsafeRawBufferPointer(rebasing: all[offset..<min(all.count, offset + pieceSize)])
                    var position = 0
                    while let end = chunker.nextBoundary(in: piece, from: position) {
                        lengths.append(offset + end - chunkStart)
                        chunkStart = offset + end
                        position = end
                    }
                    offset += piece.count
                }
            }
            if chunkStart < data.count { lengths.append(data.count - chunkStart) }
            #expect(lengths == whole, "piece size \(pieceSize)")
        }
    }

    @Test func anInsertionOnlyDisturbsNearbyChunks() {
        let original = randomBytes(4 << 20, seed: 9)
        var edited = original
        edited.insert(contentsOf: [1, 2, 3, 4, 5, 6, 7], at: 2 << 20)
        func chunks(_ data: [UInt8]) -> Set<[UInt8]> {
            let lengths = data.withUnsafeBytes { GearChunker.chunkLengths(of: $0) }
            var result = Set<[UInt8]>()
            var offset = 0
            for length in lengths {
                result.insert(Array(data[offset..<(offset + length)]))
                offset += length
            }
            return result
        }
        let before = chunks(original)
        let after = chunks(edited)
        let shared = before.intersection(after).reduce(0) { $0 + $1.count }
        #expect(Double(shared) / Double(original.count) > 0.9)
    }

    @Test func allZeroInputCutsAtTheMaximum() {
        let zeros = [UInt8](repeating: 0, count: 1 << 20)
        let lengths = zeros.withUnsafeBytes { GearChunker.chunkLengths(of: $0) }
        #expect(lengths.allSatisfy { $0 == ChunkerParameters.standard.maxSize })
    }
}
