package import GranaryStore
package import NIOCore
import Synchronization

/// Sends pack file regions with `sendfile`, below Hummingbird.
///
/// Hummingbird's response writer takes only byte buffers, so a zero-copy download writes a
/// 16-byte placeholder (a per-process random tag and an id) for a run of regions and registers
/// the run here; this handler sits at the socket end of the pipeline, after the HTTP encoder,
/// and turns each placeholder into the file regions it stands for. One placeholder per group of
/// chunks (not per chunk) keeps the HTTP handlers' per-write work out of the per-chunk cost.
/// The pack descriptor is kept open by the regions until the writes complete. Bodies carrying
/// placeholders must have a Content-Length (a chunked encoder would count the 16 bytes).
package final class FileRegionWriter: ChannelOutboundHandler, RemovableChannelHandler, Sendable {
    package typealias OutboundIn = IOData
    package typealias OutboundOut = IOData

    private static let tag = UInt64.random(in: 1...UInt64.max)
    private let pending = Mutex<(next: UInt64, runs: [UInt64: [PackFileRegion]])>((0, [:]))

    package init() {}

    /// The placeholder to write in place of `regions` (one group's: one pack), sent in order.
    package func placeholder(for regions: [PackFileRegion]) -> ByteBuffer {
        // checked: not empty, tested first
        precondition(!regions.isEmpty && regions.allSatisfy { $0.descriptor == regions[0].descriptor }, "a run is one pack's regions")
        let id = pending.withLock { state in
            state.next += 1
            state.runs[state.next] = regions
            return state.next
        }
        var buffer = ByteBuffer()
        buffer.reserveCapacity(16)
        buffer.writeInteger(Self.tag)
        buffer.writeInteger(id)
        return buffer
    }

    package func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .byteBuffer(let buffer) = unwrapOutboundIn(data), buffer.readableBytes == 16,
            buffer.getInteger(at: buffer.readerIndex, as: UInt64.self) == Self.tag,
            let id = buffer.getInteger(at: buffer.readerIndex + 8, as: UInt64.self),
            let run = pending.withLock({ $0.runs.removeValue(forKey: id) })
        else {
            context.write(data, promise: promise)
            return
        }
        // The handle borrows the pack's descriptor: ownership is taken back once the last write
        // is done; a failed write fails every later one, so that is also when the others are done.
        let handle = NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: run[0].descriptor)  // checked: runs are never empty
        for (position, region) in run.enumerated() {
            let file = FileRegion(fileHandle: handle, readerIndex: region.offset, endIndex: region.offset + region.length)
            guard position == run.count - 1 else {
                context.write(wrapOutboundOut(.fileRegion(file)), promise: nil)
                continue
            }
            let written = promise ?? context.eventLoop.makePromise()
            written.futureResult.whenComplete { _ in
                _ = try? handle.takeDescriptorOwnership()
                withExtendedLifetime(run) {}
            }
            context.write(wrapOutboundOut(.fileRegion(file)), promise: written)
        }
    }

    package func handlerRemoved(context: ChannelHandlerContext) {
        pending.withLock { $0.runs.removeAll() }
    }
}

/// Puts a ``FileRegionWriter`` at the socket end of a connection's pipeline (Hummingbird adds
/// its extra handlers after the HTTP codec, where writes are still HTTP parts), then steps out.
final class FileRegionWriterInstaller: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    func handlerAdded(context: ChannelHandlerContext) {
        let pipeline = context.pipeline.syncOperations
        do {
            try pipeline.addHandler(FileRegionWriter(), position: .first)
        } catch {
            // Downloads then fall back to copying (BlobResponse finds no writer).
        }
        pipeline.removeHandler(context: context, promise: nil)
    }
}
