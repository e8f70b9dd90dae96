import Dispatch
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

    /// An appender whose next byte goes at `offset` (block aligned).
    init(file: FileDescriptor, offset: Int) {
        precondition(offset % Self.blockSize == 0, "appends start on a block boundary")
        self.file = file
        self.bufferStart = offset
    }

    deinit { releaseBuffers() }

    /// The file offset the next appended byte will have.
    var position: Int { bufferStart + fill }

    /// Copies `segments` in, in order; full buffers go to the disk in the background.
    func append(_ segments: [UnsafeRawBufferPointer]) throws(StoreError) {
        if let error = ioError.withLock({ $0 }) { throw error }
        if buffers.isEmpty {
            region = HugePageMemory.allocate(byteCount: Self.bufferSize * Self.bufferCount)
            buffers = (0..<Self.bufferCount).map { i in
                UnsafeMutableRawBufferPointer(rebasing: region[(i * Self.bufferSize)..<((i + 1) * Self.bufferSize)])
            }
            active = 0
            available[active].wait()
        }
        for segment in segments {
            var offset = 0
            while offset < segment.count {
                let n = min(Self.bufferSize - fill, segment.count - offset)
                UnsafeMutableRawBufferPointer(rebasing: buffers[active][fill..<(fill + n)])
                    .copyMemory(from: UnsafeRawBufferPointer(rebasing: segment[offset..<(offset + n)]))
                fill += n
                offset += n
                if fill == Self.bufferSize { writeActiveInBackground() }
            }
        }
    }

    private func writeActiveInBackground() {
        let index = active
        let offset = bufferStart
        io.async {
            do throws(StoreError) {
                try self.file.write([UnsafeRawBufferPointer(self.buffers[index])], at: offset)
                if !self.file.isDirect { self.file.startWriteback(at: offset, length: Self.bufferSize) }
            } catch {
                self.ioError.withLock { $0 = $0 ?? error }
            }
            self.available[index].signal()
        }
        bufferStart += Self.bufferSize
        fill = 0
        active = (active + 1) % Self.bufferCount
        available[active].wait()
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
