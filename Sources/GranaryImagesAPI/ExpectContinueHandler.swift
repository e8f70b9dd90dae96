import HTTPTypes
public import HummingbirdCore
public import NIOCore
public import NIOHTTPTypes

/// Answers `Expect: 100-continue` at once with `100 Continue`.
///
/// Hummingbird 2.28 does not, so curl (and any client that sends the header with a body) waits
/// a second before sending each upload. The handler sits after the HTTP/1 decoder; the app never
/// sees the `Expect` header.
public final class ExpectContinueHandler: ChannelInboundHandler, RemovableChannelHandler {
    public typealias InboundIn = HTTPRequestPart
    public typealias InboundOut = HTTPRequestPart
    public typealias OutboundOut = HTTPResponsePart

    public init() {}

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(var head) = unwrapInboundIn(data), head.headerFields[.expect]?.lowercased() == "100-continue" else {
            context.fireChannelRead(data)
            return
        }
        head.headerFields[.expect] = nil
        context.writeAndFlush(wrapOutboundOut(.head(HTTPResponse(status: .continue))), promise: nil)
        context.fireChannelRead(wrapInboundOut(.head(head)))
    }
}

/// The images API's HTTP/1 server: Hummingbird's, with 100-continue answered, zero-copy file
/// regions for downloads (``FileRegionWriter``), and connections
/// closed after `idleTimeout` seconds without a read or a write (Glance's
/// `client_socket_timeout`). Closing a stalled upload's connection fails its body, so the upload
/// is cleaned up like any cut-off one (image back to `queued`, write session ended) instead of
/// holding its session, and so GC's horizon, forever.
public func imagesServer(idleTimeout: Int? = nil) -> HTTPServerBuilder {
    .http1(
        configuration: .init(
            additionalChannelHandlers: {
                var handlers: [any RemovableChannelHandler] = [ExpectContinueHandler(), FileRegionWriterInstaller()]
                if let idleTimeout {
                    handlers += [IdleStateHandler(allTimeout: .seconds(Int64(idleTimeout))), IdleConnectionCloser()]
                }
                return handlers
            }()))
}

/// Closes the connection when ``IdleStateHandler`` reports it idle.
final class IdleConnectionCloser: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }
}
