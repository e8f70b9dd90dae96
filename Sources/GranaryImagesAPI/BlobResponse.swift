import GranaryCatalog
public import GranaryStore
public import Hummingbird
public import Logging
import NIOCore
import NIOPosix

/// The body of a data download: the reader's groups of chunks, read off the event loop.
///
/// Nothing is copied in user space. A group of raw chunks that is in the page cache is checked
/// there (through the pack's mapping) and sent from the pack file with `sendfile`
/// (``FileRegionWriter``); with `store.verify_reads = false` it is not checked, and sent so
/// even when cold. Other groups (cold, or holding compressed chunks) are read into one buffer
/// and sent as slices of it (record headers skipped); all-zero chunks are copied.
public enum BlobResponse {
    /// A read that fails mid-body (a damaged chunk, a vanished pack) cuts the response short,
    /// the status being sent already; `logger` records why, with the request id.
    public static func body(_ reader: BlobReader, channel: any Channel, logger: Logger) -> ResponseBody {
        let box = ReaderBox(reader)
        return ResponseBody(contentLength: reader.count) { writer in
            let regions = try? await channel.pipeline.handler(type: FileRegionWriter.self).get()
            @Sendable func nextGroup() async throws -> [ByteBuffer]? {
                try await NIOThreadPool.singleton.runIfActive {
                    var parts: [ByteBuffer] = []
                    var filled = ByteBuffer()
                    // Consecutive regions go out behind one placeholder.
                    var run: [PackFileRegion] = []
                    func endRun() {
                        guard !run.isEmpty else { return }
                        parts.append(regions!.placeholder(for: run))
                        run.removeAll()
                    }
                    let more = try box.reader.readNextParts(
                        zeroCopy: regions != nil,
                        fill: { count, read in
                            filled = ByteBuffer()
                            filled.reserveCapacity(count)
                            try filled.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { buffer in
                                try read(UnsafeMutableRawBufferPointer(rebasing: buffer[0..<count]))
                                return count
                            }
                        },
                        emit: { part in
                            switch part {
                            case .region(let region):
                                run.append(region)
                            case .filled(let range):
                                endRun()
                                parts.append(filled.getSlice(at: range.lowerBound, length: range.count)!)
                            case .transient(let bytes):
                                endRun()
                                parts.append(ByteBuffer(bytes: bytes))
                            }
                        })
                    endRun()
                    return more ? parts : nil
                }
            }
            // One group is read (and checked) while the one before it goes out.
            var next = Task { try await nextGroup() }
            defer { next.cancel() }
            while true {
                let parts: [ByteBuffer]?
                do {
                    parts = try await next.value
                } catch {
                    logger.error("download stopped after the status was sent: \(error)")
                    throw error
                }
                guard let parts else { break }
                next = Task { try await nextGroup() }
                try await writer.write(contentsOf: parts)
            }
            try await writer.finish(nil)
        }
    }
}

/// Hands a reader to the response-writing task and its read-ahead (one read at a time).
final class ReaderBox: @unchecked Sendable {
    let reader: BlobReader
    init(_ reader: BlobReader) { self.reader = reader }
}

/// A single `Range: bytes=…` header (multiple ranges are a 400, as Glance answers; unsatisfiable 416).
public enum ByteRangeHeader {
    public static func parse(_ header: String, size: Int) throws -> Range<Int> {
        guard header.hasPrefix("bytes="), !header.contains(",") else {
            throw CatalogError(.badRequest, "Only a single byte range is supported: \(header)")
        }
        let spec = header.dropFirst("bytes=".count)
        let parts = spec.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else { throw CatalogError(.badRequest, "Malformed Range header: \(header)") }
        let unsatisfiable = CatalogError(.rangeNotSatisfiable, "The requested range is not satisfiable: \(header)")
        if parts[0].isEmpty {
            guard let suffix = Int(parts[1]), suffix > 0 else { throw CatalogError(.badRequest, "Malformed Range header: \(header)") }
            guard size > 0 else { throw unsatisfiable }
            return max(0, size - suffix)..<size
        }
        guard let start = Int(parts[0]), start >= 0 else { throw CatalogError(.badRequest, "Malformed Range header: \(header)") }
        guard start < size else { throw unsatisfiable }
        if parts[1].isEmpty { return start..<size }
        guard let end = Int(parts[1]), end >= start else { throw CatalogError(.badRequest, "Malformed Range header: \(header)") }
        return start..<min(size, end + 1)
    }
}
