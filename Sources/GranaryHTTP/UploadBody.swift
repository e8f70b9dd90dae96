package import GranaryCatalog
package import Hummingbird
package import NIOCore

/// Request bodies that carry data (image uploads and stages, artifact blobs).
package enum UploadBody {
    /// Copies the request body into the upload sink, buffer by buffer, as it arrives.
    package static func stream(_ request: Request, into sink: UploadSink) async throws {
        for try await buffer in request.body { try await write(buffer, into: sink) }
    }

    /// Copies one buffer into the upload sink.
    package static func write(_ buffer: ByteBuffer, into sink: UploadSink) async throws {
        var buffer = buffer
        while buffer.readableBytes > 0 {
            try await sink.fill { space in
                let n = min(space.count, buffer.readableBytes)
                buffer.withUnsafeReadableBytes { space.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
                buffer.moveReaderIndex(forwardBy: n)
                return n
            }
        }
    }
}
