import GranaryCatalog
public import GranaryStore
public import Hummingbird
import NIOCore
import NIOPosix

/// The body of a data download: the reader's groups of chunks, read off the event loop.
public enum BlobResponse {
    public static func body(_ reader: BlobReader) -> ResponseBody {
        let box = ReaderBox(reader)
        return ResponseBody(contentLength: reader.count) { writer in
            while true {
                let piece: ByteBuffer? = try await NIOThreadPool.singleton.runIfActive {
                    var out = ByteBuffer()
                    let more = try box.reader.readNext { out.writeBytes($0) }
                    return more ? out : nil
                }
                guard let piece else { break }
                try await writer.write(piece)
            }
            try await writer.finish(nil)
        }
    }
}

/// Hands a reader to the response-writing task (used by one task at a time).
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
