import GranaryCatalog
import GranaryParsing
package import GranaryStore
package import Hummingbird
package import Logging
import NIOCore
import NIOPosix

/// The body of a data download: the reader's groups of chunks, read off the event loop.
///
/// Nothing is copied in user space. A group of raw chunks that is in the page cache is checked
/// there (through the pack's mapping) and sent from the pack file with `sendfile`
/// (``FileRegionWriter``); with `store.verify_reads = false` it is not checked, and sent so
/// even when cold. Other groups (cold, or holding compressed chunks) are read into one buffer
/// and sent as slices of it (record headers skipped); all-zero chunks are copied.
package enum BlobResponse {
    /// A read that fails mid-body (a damaged chunk, a vanished pack) cuts the response short,
    /// the status being sent already; `logger` records why, with the request id.
    package static func body(_ reader: BlobReader, channel: any Channel, logger: Logger) -> ResponseBody {
        let box = ReaderBox(reader)
        return ResponseBody(contentLength: reader.count) { writer in
            let regions = try? await channel.pipeline.handler(type: FileRegionWriter.self).get()
            @Sendable func nextGroup() async throws -> [ByteBuffer]? {
                try await box.reader.prepareNext()
                return try await NIOThreadPool.singleton.runIfActive {
                    var parts: [ByteBuffer] = []
                    var filled = ByteBuffer()
                    // Consecutive regions go out behind one placeholder.
                    var run: [PackFileRegion] = []
                    func endRun() {
                        guard !run.isEmpty else { return }
                        parts.append(regions!.placeholder(for: run))  // checked: runs exist only when regions do (zeroCopy)
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
                                // checked: the reader's ranges lie in what it filled
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

/// The bytes of a download a request's `Range` header asks for (``ByteRangeHeader``'s rules),
/// for image and artifact downloads alike.
package enum DownloadRange {
    /// nil: the whole body (200), also for a header that is no byte range. Several ranges are
    /// a 400 (as Glance answers), a range past the end a 416 with `Content-Range: bytes */SIZE`.
    package static func requested(_ request: Request, size: Int) throws -> Range<Int>? {
        guard let header = request.headers[.range] else { return nil }
        switch ByteRangeHeader.parse(header, size: size) {
        case .partial(let range): return range
        case .ignored: return nil
        case .multiple:
            throw CatalogError(
                .badRequest, "Requests for multiple ranges are not supported in v2 api. You can make multiple single-range requests instead.")
        case .unsatisfiable: throw UnsatisfiableRange(size: size)
        }
    }
}

/// A range past the end of `size` bytes: 416, and `Content-Range` says the size (RFC 9110 §15.5.17).
package struct UnsatisfiableRange: Error, Sendable {
    package let size: Int
}
