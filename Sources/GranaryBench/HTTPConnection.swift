import NIOCore
import NIOHTTP1
import NIOPosix

/// A response read to its end.
struct HTTPResult {
    let head: HTTPResponseHead
    /// The body, when it was collected (empty when it went to a consumer).
    let body: ByteBuffer
    let bodyBytes: Int
    var status: Int { Int(head.status.code) }
}

/// One HTTP/1.1 keep-alive connection, driven by one task: a request goes out, its response is
/// read to the end, then the next request. Small and direct on purpose: the client shares the
/// machine with the server it measures, so an upload costs one generator pass into a reused
/// 1 MiB buffer and one channel write per MiB, and nothing per byte.
///
/// Writes go straight to the channel and an upload waits for the socket to take all but the
/// last ``writesInFlight`` buffers: the async outbound writer's backpressure reacts only after
/// the event loop ran, and under load it let tens of MiB queue per connection.
///
/// Not AsyncHTTPClient: on the same load (16 × 256 MiB, 8 in flight, against `granary serve`)
/// it cost 0.34–0.35 client CPU-s per GB and 228–356 MB peak RSS, this 0.27–0.28 and 65 MB;
/// and it would bring TLS and HTTP/2 into the executable for a benchmark that needs neither.
final class HTTPConnection {
    typealias Channel = NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>

    let endpoint: GlanceEndpoint
    /// False once the connection broke or the server asked to close it.
    private(set) var isReusable = true
    private let channel: any NIOCore.Channel
    private var inbound: NIOAsyncChannelInboundStream<HTTPClientResponsePart>.AsyncIterator
    private let allocator: ByteBufferAllocator
    /// Upload buffers the channel may still hold; one is reused as soon as the channel let go of
    /// it (uniquely referenced again), so filling it never copies on write.
    private var buffers: [ByteBuffer] = []

    static let chunkSize = 1 << 20
    static let writesInFlight = 3
    /// A connection on which nothing moved this long is closed: a stuck server ends the run
    /// with connection errors instead of hanging it.
    static let idleTimeout = TimeAmount.seconds(120)

    private init(
        endpoint: GlanceEndpoint, inbound: NIOAsyncChannelInboundStream<HTTPClientResponsePart>.AsyncIterator,
        channel: any NIOCore.Channel
    ) {
        self.endpoint = endpoint
        self.inbound = inbound
        self.channel = channel
        self.allocator = channel.allocator
    }

    /// Connects, runs `body` on the connection, closes it.
    static func withConnection<R>(
        to endpoint: GlanceEndpoint, group: any EventLoopGroup, _ body: (HTTPConnection) async throws -> R
    ) async throws -> R {
        let channel: Channel
        do {
            channel = try await ClientBootstrap(group: group)
                .connectTimeout(.seconds(10))
                // Large reads for downloads.
                .channelOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 4096, initial: 64 << 10, maximum: 1 << 20))
                .connect(host: endpoint.host, port: endpoint.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(IdleStateHandler(allTimeout: Self.idleTimeout))
                        try channel.pipeline.syncOperations.addHandler(CloseWhenIdle())
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        return try Channel(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw BenchError(.connection, "cannot connect to \(endpoint.host):\(endpoint.port): \(error)")
        }
        return try await channel.executeThenClose { inbound, _ in
            try await body(HTTPConnection(endpoint: endpoint, inbound: inbound.makeAsyncIterator(), channel: channel.channel))
        }
    }

    /// A request with a small body already in memory (or none); the response body is collected.
    func exchange(_ method: HTTPMethod, _ path: String, contentType: String? = nil, body: ByteBuffer? = nil) async throws(BenchError)
        -> HTTPResult
    {
        var head = makeHead(method, path)
        if let contentType { head.headers.add(name: "Content-Type", value: contentType) }
        if let body { head.headers.add(name: "Content-Length", value: String(body.readableBytes)) }
        var parts: [HTTPClientRequestPart] = [.head(head)]
        if let body { parts.append(.body(.byteBuffer(body))) }
        parts.append(.end(nil))
        try await send(parts)
        return try await readResponse(collect: true)
    }

    /// Streams `generator`'s remaining bytes as the body, with a Content-Length (or chunked),
    /// calling `sent` after each buffer handed to the channel.
    func upload(
        _ method: HTTPMethod, _ path: String, contentType: String, generator: inout DataGenerator, chunked: Bool,
        sent: (Int) -> Void
    ) async throws(BenchError) -> HTTPResult {
        var head = makeHead(method, path)
        head.headers.add(name: "Content-Type", value: contentType)
        if chunked {
            head.headers.add(name: "Transfer-Encoding", value: "chunked")
        } else {
            head.headers.add(name: "Content-Length", value: String(generator.size - generator.position))
        }
        do throws(BenchError) {
            var inFlight: [EventLoopFuture<Void>] = [write(.head(head))]
            while !generator.isFinished {
                var buffer = takeBuffer()
                let n = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: Self.chunkSize) { free in
                    generator.fill(UnsafeMutableRawBufferPointer(rebasing: free.prefix(Self.chunkSize)))
                }
                buffers.append(buffer)
                inFlight.append(write(.body(.byteBuffer(buffer))))
                while inFlight.count > Self.writesInFlight { try await wait(inFlight.removeFirst()) }
                sent(n)
            }
            inFlight.append(write(.end(nil)))
            for future in inFlight { try await wait(future) }
        } catch {
            // A server refusing an upload may answer and close before it read the body: its
            // answer (413, 409, …) says more than the broken pipe.
            if let early = try? await readResponse(collect: true) { return early }
            throw error
        }
        return try await readResponse(collect: true)
    }

    /// A GET whose response body goes to `consume` buffer by buffer, as it arrives.
    func download(_ path: String, consume: (ByteBuffer) -> Void) async throws(BenchError) -> HTTPResult {
        try await send([.head(makeHead(.GET, path)), .end(nil)])
        return try await readResponse(collect: false, consume: consume)
    }

    private func makeHead(_ method: HTTPMethod, _ path: String) -> HTTPRequestHead {
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: endpoint.hostHeader)
        headers.add(name: "User-Agent", value: "granary-bench")
        headers.add(name: "Accept", value: "application/json")
        if let token = endpoint.token { headers.add(name: "X-Auth-Token", value: token) }
        return HTTPRequestHead(version: .http1_1, method: method, uri: path, headers: headers)
    }

    /// A buffer of at least ``chunkSize`` the channel no longer holds, emptied; new if none is free.
    private func takeBuffer() -> ByteBuffer {
        for index in buffers.indices where buffers[index].modifyIfUniquelyOwned({ $0.clear() }) != nil {
            return buffers.remove(at: index)
        }
        if buffers.count > Self.writesInFlight + 2 { buffers.removeFirst() }
        return allocator.buffer(capacity: Self.chunkSize)
    }

    private func send(_ parts: [HTTPClientRequestPart]) async throws(BenchError) {
        guard isReusable else { throw BenchError(.connection, "the connection to \(endpoint.host):\(endpoint.port) is closed") }
        var last: EventLoopFuture<Void>?
        for part in parts { last = write(part) }
        if let last { try await wait(last) }
    }

    /// Hands `part` to the channel (flushed); the future completes when the socket took it.
    private func write(_ part: HTTPClientRequestPart) -> EventLoopFuture<Void> {
        channel.writeAndFlush(part)
    }

    private func wait(_ write: EventLoopFuture<Void>) async throws(BenchError) {
        do {
            try await write.get()
        } catch {
            isReusable = false
            throw BenchError(.connection, "sending to \(endpoint.host):\(endpoint.port) failed: \(error)")
        }
    }

    private func readResponse(collect: Bool, consume: (ByteBuffer) -> Void = { _ in }) async throws(BenchError) -> HTTPResult {
        var head: HTTPResponseHead?
        var collected: ByteBuffer?
        var bytes = 0
        while true {
            let part: HTTPClientResponsePart?
            do {
                part = try await inbound.next()
            } catch {
                isReusable = false
                throw BenchError(.connection, "reading the response from \(endpoint.host):\(endpoint.port) failed: \(error)")
            }
            switch part {
            case nil:
                isReusable = false
                throw BenchError(
                    .connection,
                    "\(endpoint.host):\(endpoint.port) closed the connection before the response ended (or nothing moved for \(Self.idleTimeout.nanoseconds / 1_000_000_000) s)"
                )
            case .head(let received):
                // 1xx informational heads come before the real one.
                if received.status.code >= 200 { head = received }
            case .body(let buffer):
                bytes += buffer.readableBytes
                if !collect {
                    consume(buffer)
                } else if collected == nil {
                    collected = buffer
                } else {
                    collected?.writeImmutableBuffer(buffer)
                }
            case .end:
                guard let head else { continue }
                if !head.isKeepAlive { isReusable = false }
                return HTTPResult(head: head, body: collected ?? ByteBuffer(), bodyBytes: bytes)
            }
        }
    }
}

/// Closes the channel when ``IdleStateHandler`` says nothing moved.
private final class CloseWhenIdle: ChannelInboundHandler, Sendable {
    typealias InboundIn = NIOAny

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }
}
