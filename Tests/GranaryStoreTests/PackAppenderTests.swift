import Foundation
import GranaryCodec
import GranaryTesting
import Testing

@testable import GranaryStore

/// Records appended with the CRC32C computed while the data is copied in: the header written in
/// front of its data afterwards, also where header or data straddle a buffer boundary (the
/// buffer holding header bytes must not reach the disk before the header is in place).
@Suite(.consistencyChecked) struct PackAppenderTests {
    static let headerSize = 64

    /// Appends `records` (each after `gap` plain bytes) and returns the file's bytes and the
    /// offset of each record.
    func appendAndRead(_ records: [(gap: Int, data: [UInt8])], direct: Bool) throws -> (file: [UInt8], offsets: [Int]) {
        let path = TemporaryDirectory("granary-appender").path + "/pack"
        let file = try #require(try FileDescriptor.createExclusive(path, direct: direct))
        let appender = PackAppender(file: file, offset: 0)
        var offsets: [Int] = []
        for (n, record) in records.enumerated() {
            try [UInt8](repeating: UInt8(truncatingIfNeeded: n), count: record.gap).withUnsafeBytes { try appender.append([$0]) }
            offsets.append(appender.position)
            // The data in two segments, as a chunk spanning two slabs arrives.
            let half = record.data.count / 2
            try record.data.withUnsafeBytes { data in
                try appender.appendRecord(
                    headerSize: Self.headerSize,
                    data: [UnsafeRawBufferPointer(rebasing: data[..<half]), UnsafeRawBufferPointer(rebasing: data[half...])]
                ) { crc, header in
                    for i in stride(from: 0, to: Self.headerSize, by: 4) { header.storeBytes(of: crc ^ UInt32(i), toByteOffset: i, as: UInt32.self) }
                }
            }
        }
        try appender.flushAndSync()
        appender.releaseBuffers()
        return (try [UInt8](Data(contentsOf: URL(fileURLWithPath: path))), offsets)
    }

    @Test(arguments: [false, true])
    func headersAndDataLandWhereTheyBelongAcrossBufferBoundaries(direct: Bool) throws {
        let buffer = PackAppender.bufferSize
        var seed: UInt64 = 5
        func data(_ count: Int) -> [UInt8] {
            seed += 1
            return randomBytes(count, seed: seed)
        }
        // Record starts against the 1 MiB buffer edges: a header split 30/34, a record filling
        // its buffer to the byte, one starting on the edge, a header ending exactly at the edge
        // (its data in the next buffer), and an empty record.
        let header = Self.headerSize
        let records: [(gap: Int, data: [UInt8])] = [
            (buffer - 30, data(1_000)),
            (buffer - (header + 1_000 - 30) - (header + 70_000), data(70_000)),
            (0, data(300_000)),
            (buffer - (header + 300_000) - header, data(17)),
            (5, data(0)),
        ]
        let (file, offsets) = try appendAndRead(records, direct: direct)
        #expect(offsets[0] == buffer - 30)
        #expect(offsets[1] + header + 70_000 == 2 * buffer)  // fills its buffer to the byte
        #expect(offsets[2] == 2 * buffer && offsets[3] + header == 3 * buffer)
        for (record, offset) in zip(records, offsets) {
            let crc = CRC32C.checksum(record.data)
            let expected = stride(from: 0, to: header, by: 4).flatMap { i in withUnsafeBytes(of: crc ^ UInt32(i)) { Array($0) } }
            #expect(file[offset..<(offset + header)].elementsEqual(expected), "header at \(offset)")
            #expect(file[(offset + header)..<(offset + header + record.data.count)].elementsEqual(record.data), "data at \(offset)")
        }
        // The plain bytes between records are intact too.
        for (n, (record, offset)) in zip(records, offsets).enumerated() where record.gap > 0 {
            #expect(file[(offset - record.gap)..<offset].allSatisfy { $0 == UInt8(truncatingIfNeeded: n) })
        }
    }
}
