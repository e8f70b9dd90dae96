import GranaryCodec

/// Walks the records of one pack file in order, reading it in large windows: what fsck, scrub
/// and index repair need (a pack is self-describing, so its chunks can be listed from it alone).
///
/// Zero padding between commit points is skipped to the next 4 KiB block. Damage (a header that
/// fails its checksum, a record running past the end) is reported and the scan resynchronises
/// at the next byte sequence that parses as a valid header, so one bad record does not hide the
/// rest of the pack.
final class PackScanner {
    /// One record as found: where, its parsed header, and its stored bytes (valid during the callback).
    struct Record {
        var offset: Int
        var header: RecordHeader
        var stored: UnsafeRawBufferPointer
        var size: Int { PackFormat.recordHeaderSize + header.storedLength }
    }

    private let file: FileDescriptor
    private let name: String
    private let end: Int
    private let maxRecord: Int
    private static let window = 4 << 20
    private let buffer: UnsafeMutableRawBufferPointer
    private var bufferStart = 0
    private var bufferCount = 0

    /// Scans `file` (pack `packID`) from its file header up to byte `end`.
    init(file: FileDescriptor, packID: UInt32, end: Int, maxStoredLength: Int) {
        self.file = file
        self.name = PackFormat.fileName(packID)
        self.end = end
        self.maxRecord = PackFormat.recordHeaderSize + maxStoredLength
        buffer = .allocate(byteCount: Self.window + maxRecord, alignment: 64)
    }

    deinit { buffer.deallocate() }

    /// Makes bytes `offset..<offset + count` (clamped to the end) available; returns them.
    private func bytes(at offset: Int, count: Int) throws(StoreError) -> UnsafeRawBufferPointer {
        let count = min(count, end - offset)
        if offset < bufferStart || offset + count > bufferStart + bufferCount {
            bufferStart = offset
            bufferCount = min(buffer.count, end - offset)
            try file.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<bufferCount]), at: offset)
        }
        let from = offset - bufferStart
        return UnsafeRawBufferPointer(rebasing: buffer[from..<(from + count)])
    }

    /// Calls `record` for each intact record and `damage` for each damaged stretch, in order.
    /// - Returns: bytes read.
    @discardableResult
    func scan(record: (Record) throws -> Void, damage: (_ offset: Int, _ problem: String) -> Void) throws -> Int {
        guard end >= PackFormat.fileHeaderSize else {
            damage(0, "\(name) is shorter than a pack file header")
            return 0
        }
        let head = try bytes(at: 0, count: PackFormat.fileHeaderSize)
        if !head.prefix(PackFormat.fileMagic.count).elementsEqual(PackFormat.fileMagic) {
            damage(0, "\(name) does not start with a pack file header")
        }
        var offset = PackFormat.fileHeaderSize
        while offset < end {
            let window = try bytes(at: offset, count: maxRecord)
            if window.count < PackFormat.recordHeaderSize || window[0] == 0 {
                // Zero padding runs to the next block; anything else there is damage.
                let boundary = min(end, (offset / PackAppender.blockSize + 1) * PackAppender.blockSize)
                let padding = try bytes(at: offset, count: boundary - offset)
                if padding.allSatisfy({ $0 == 0 }) {
                    offset = boundary
                    continue
                }
            }
            let header: RecordHeader
            do throws(StoreError) {
                header = try RecordHeader.decode(window, location: "\(name) offset \(offset)")
            } catch {
                damage(offset, error.message)
                offset = try resynchronise(after: offset)
                continue
            }
            let size = PackFormat.recordHeaderSize + header.storedLength
            guard size <= window.count else {
                damage(offset, "the record at \(name) offset \(offset) runs past the committed end")
                offset = try resynchronise(after: offset)
                continue
            }
            try record(Record(offset: offset, header: header, stored: UnsafeRawBufferPointer(rebasing: window[PackFormat.recordHeaderSize..<size])))
            offset += size
        }
        return end
    }

    /// The offset of the next valid record header after `offset`, or the end.
    private func resynchronise(after offset: Int) throws(StoreError) -> Int {
        var candidate = offset + 1
        while candidate + PackFormat.recordHeaderSize <= end {
            let window = try bytes(at: candidate, count: PackFormat.recordHeaderSize)
            if window[0] == PackFormat.recordMagic[0], (try? RecordHeader.decode(window, location: "")) != nil { return candidate }
            candidate += 1
        }
        return end
    }
}
