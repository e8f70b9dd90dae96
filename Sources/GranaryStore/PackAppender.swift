import Dispatch
import GranaryCodec
import Synchronization

/// Appends records to a pack through a ring of block-aligned buffers, written through the page
/// cache with writeback started per buffer, or with `O_DIRECT` (``PackWriteMode``).
///
/// Measured on this project's machines (1 GiB from memory, a C loop): buffered writes with one
/// fdatasync at the end 450–600 MB/s (writeback starts late), buffered with
/// `sync_file_range(WRITE)` after each 4 MiB 1.25–1.6 GB/s, `O_DIRECT` 0.7–1.1 GB/s. While full
/// buffers are written on a concurrent I/O queue, the ingest lane fills the next one, so disk
/// and hashing overlap. At each commit point the tail is written padded with zeros to the next
/// 4 KiB block and never rewritten (committed blocks stay untouched), so packs contain zero
/// padding between commits, which a scan skips.
final class PackAppender: @unchecked Sendable {
    // Safe because one ingest lane owns the appender at a time (through its pack lease). A
    // buffer belongs either to the lane (the active one) or to one in-flight write; its
    // semaphore hands it back.
    static let blockSize = 4096
    static let bufferSize = 1 << 20
    static let bufferCount = 4

    let file: FileDescriptor
    /// The buffers' memory, in huge pages (``HugePageMemory``), allocated at the first append.
    private var region = UnsafeMutableRawBufferPointer(start: nil, count: 0)
    private var buffers: [UnsafeMutableRawBufferPointer] = []
    /// `available[i]` is signalled while buffer `i` is not being written.
    private let available = (0..<PackAppender.bufferCount).map { _ in DispatchSemaphore(value: 1) }
    private var active = 0
    private var fill = 0
    /// File offset of the active buffer's first byte; always block aligned.
    private var bufferStart: Int
    private let io = DispatchQueue(label: "granary.pack-io", qos: .userInitiated, attributes: .concurrent)
    private let ioError = Mutex<StoreError?>(nil)
    /// Buffers holding bytes of the record header being appended, and full buffers among them
    /// not yet written (file offsets): see ``appendRecord(headerSize:data:header:)``.
    private var heldForHeader: UInt32 = 0
    private var deferredWrites: [(index: Int, offset: Int)] = []
    private let headerScratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 256, alignment: 8)

    /// An appender whose next byte goes at `offset` (block aligned).
    init(file: FileDescriptor, offset: Int) {
        precondition(offset % Self.blockSize == 0, "appends start on a block boundary")
        self.file = file
        self.bufferStart = offset
    }

    deinit {
        releaseBuffers()
        headerScratch.deallocate()
    }

    /// The file offset the next appended byte will have.
    var position: Int { bufferStart + fill }

    /// Copies `segments` in, in order; full buffers go to the disk in the background.
    func append(_ segments: [UnsafeRawBufferPointer]) throws(StoreError) {
        try prepareBuffers()
        for segment in segments { copyIn(segment, checksum: false, crc: 0) }
    }

    /// Appends a record whose header holds the CRC32C of its data: the data is checksummed as it
    /// is copied in (one read of it, not two), then `header` writes the header in front of it.
    /// A buffer holding header bytes goes to the disk only once the header is in place.
    func appendRecord(
        headerSize: Int, data segments: [UnsafeRawBufferPointer],
        header: (_ dataCRC: UInt32, _ into: UnsafeMutableRawBufferPointer) -> Void
    ) throws(StoreError) {
        try prepareBuffers()
        precondition(headerSize <= headerScratch.count, "record header larger than its scratch")
        // Held buffers keep their semaphores, so a record must not wrap the ring onto them.
        precondition(
            headerSize + segments.reduce(0) { $0 + $1.count } <= (Self.bufferCount - 2) * Self.bufferSize, "record larger than the buffer ring allows"
        )
        // The header's bytes, in at most two buffers (it may straddle a boundary).
        let firstIndex = active
        let firstStart = fill
        let firstCount = min(headerSize, Self.bufferSize - fill)
        heldForHeader = 1 << active
        fill += firstCount
        if fill == Self.bufferSize { nextBuffer() }
        let secondIndex = active
        if firstCount < headerSize {
            heldForHeader |= 1 << active
            fill = headerSize - firstCount
        }
        var crc: UInt32 = 0
        for segment in segments { crc = copyIn(segment, checksum: true, crc: crc) }
        let scratch = UnsafeMutableRawBufferPointer(rebasing: headerScratch[0..<headerSize])
        header(crc, scratch)
        UnsafeMutableRawBufferPointer(rebasing: buffers[firstIndex][firstStart..<(firstStart + firstCount)])
            .copyMemory(from: UnsafeRawBufferPointer(rebasing: scratch[0..<firstCount]))
        if firstCount < headerSize {
            UnsafeMutableRawBufferPointer(rebasing: buffers[secondIndex][0..<(headerSize - firstCount)])
                .copyMemory(from: UnsafeRawBufferPointer(rebasing: scratch[firstCount...]))
        }
        heldForHeader = 0
        for (index, offset) in deferredWrites { write(index, at: offset) }
        deferredWrites.removeAll(keepingCapacity: true)
    }

    private func prepareBuffers() throws(StoreError) {
        if let error = ioError.withLock({ $0 }) { throw error }
        guard buffers.isEmpty else { return }
        region = HugePageMemory.allocate(byteCount: Self.bufferSize * Self.bufferCount)
        buffers = (0..<Self.bufferCount).map { i in
            UnsafeMutableRawBufferPointer(rebasing: region[(i * Self.bufferSize)..<((i + 1) * Self.bufferSize)])
        }
        active = 0
        available[active].wait()
    }

    /// Copies `segment` in at the fill point, checksumming it on the way when asked.
    @discardableResult
    private func copyIn(_ segment: UnsafeRawBufferPointer, checksum: Bool, crc: UInt32) -> UInt32 {
        var crc = crc
        var offset = 0
        while offset < segment.count {
            let n = min(Self.bufferSize - fill, segment.count - offset)
            let source = UnsafeRawBufferPointer(rebasing: segment[offset..<(offset + n)])
            let target = UnsafeMutableRawBufferPointer(rebasing: buffers[active][fill..<(fill + n)])
            if checksum {
                crc = CRC32C.checksum(copying: source, to: target, continuing: crc)
            } else {
                target.copyMemory(from: source)
            }
            fill += n
            offset += n
            if fill == Self.bufferSize { nextBuffer() }
        }
        return crc
    }

    /// Hands the full active buffer to the disk (or, while it holds part of an unwritten record
    /// header, keeps it back until ``appendRecord(headerSize:data:header:)`` places the header)
    /// and waits for the next buffer to be free.
    private func nextBuffer() {
        if heldForHeader & (1 << active) != 0 {
            deferredWrites.append((active, bufferStart))
        } else {
            write(active, at: bufferStart)
        }
        bufferStart += Self.bufferSize
        fill = 0
        active = (active + 1) % Self.bufferCount
        available[active].wait()
    }

    private func write(_ index: Int, at offset: Int) {
        io.async {
            do throws(StoreError) {
                try self.file.write([UnsafeRawBufferPointer(self.buffers[index])], at: offset)
                if !self.file.isDirect { self.file.startWriteback(at: offset, length: Self.bufferSize) }
            } catch {
                self.ioError.withLock { $0 = $0 ?? error }
            }
            self.available[index].signal()
        }
    }

    /// Waits until no write is in flight.
    private func waitForWrites() {
        guard !buffers.isEmpty else { return }
        for index in 0..<Self.bufferCount where index != active {
            available[index].wait()
            available[index].signal()
        }
    }

    /// Writes everything appended so far, the tail padded to a block, and waits for the disk
    /// (fdatasync). Afterwards ``position`` is block aligned.
    func flushAndSync() throws(StoreError) {
        waitForWrites()
        if let error = ioError.withLock({ $0 }) { throw error }
        if fill > 0 {
            let padded = (fill + Self.blockSize - 1) / Self.blockSize * Self.blockSize
            UnsafeMutableRawBufferPointer(rebasing: buffers[active][fill..<padded]).initializeMemory(as: UInt8.self, repeating: 0)
            try file.write([UnsafeRawBufferPointer(rebasing: buffers[active][0..<padded])], at: bufferStart)
            bufferStart += padded
            fill = 0
        }
        try file.sync()
    }

    /// Frees the buffers (an idle or full pack should not hold memory); they come back on the
    /// next append. Unflushed bytes are lost: call after ``flushAndSync()`` or ``discard(to:)``.
    func releaseBuffers() {
        guard !buffers.isEmpty else { return }
        waitForWrites()
        available[active].signal()
        HugePageMemory.deallocate(region)
        buffers = []
        fill = 0
    }

    /// Forgets unwritten bytes and cuts the file back to `offset` (block aligned): a failed
    /// upload's appends disappear.
    func discard(to offset: Int) throws(StoreError) {
        waitForWrites()
        ioError.withLock { $0 = nil }
        fill = 0
        bufferStart = offset
        try file.truncate(to: offset)
    }
}
