import HTTPTypes
package import HummingbirdCore
package import NIOCore
package import NIOHTTPTypes

/// Answers `Expect: 100-continue` with `100 Continue` once the request is authenticated.
///
/// Hummingbird 2.28 does not answer it at all, so curl (and any client that sends the header
/// with a body) would wait a second before each upload. The interim response waits for
/// ``ExpectContinue/send`` (sent by ``AuthMiddleware`` once it knows the caller): an
/// unauthenticated upload gets its 401 without being invited to send the body, and since the
/// client may then send it anyway, a final response to a request still waiting for its
/// `100 Continue` closes the connection rather than reading a body nobody asked for.
package final class ExpectContinueHandler: ChannelDuplexHandler, RemovableChannelHandler {
    package typealias InboundIn = HTTPRequestPart
    package typealias InboundOut = HTTPRequestPart
    package typealias OutboundIn = HTTPResponsePart
    package typealias OutboundOut = HTTPResponsePart

    /// A request head carried `Expect: 100-continue` and no answer was sent yet.
    private var waiting = false
    private var closeAfterResponse = false

    package init() {}

    package func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let head) = unwrapInboundIn(data) {
            waiting = head.headerFields[.expect]?.lowercased() == "100-continue"
        }
        context.fireChannelRead(data)
    }

    package func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        guard event is ExpectContinue else { return context.triggerUserOutboundEvent(event, promise: promise) }
        if waiting {
            waiting = false
            context.writeAndFlush(wrapOutboundOut(.head(HTTPResponse(status: .continue))), promise: promise)
        } else {
            promise?.succeed(())
        }
    }

    package func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(var head) where waiting && head.status.kind != .informational:
            waiting = false
            closeAfterResponse = true
            head.headerFields[.connection] = "close"
            context.write(wrapOutboundOut(.head(head)), promise: promise)
        case .end where closeAfterResponse:
            closeAfterResponse = false
            let written = promise ?? context.eventLoop.makePromise()
            context.write(data, promise: written)
            written.futureResult.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        default:
            context.write(data, promise: promise)
        }
    }
}

/// The outbound event that sends a waiting `100 Continue` (nothing when none is waiting).
package struct ExpectContinue: Sendable {
    package static let send = ExpectContinue()
}

/// Closes a connection whose client has not sent a whole request head within `timeout`
/// (nginx's `client_header_timeout`): the idle timeout alone never fires on a client that
/// trickles a byte at a time, which held a connection for as long as it liked.
///
/// The clock runs from the connection's start and from the end of each response until the
/// next request head has been read.
final class HeaderTimeoutHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart

    let timeout: TimeAmount
    private var timer: Scheduled<Void>?
    /// Requests whose head was read and whose response has not ended.
    private var inFlight = 0

    init(timeout: TimeAmount) { self.timeout = timeout }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { arm(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        arm(context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head = unwrapInboundIn(data) {
            inFlight += 1
            timer?.cancel()
            timer = nil
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) {
            inFlight = max(0, inFlight - 1)
            if inFlight == 0 { arm(context) }
        }
        context.write(data, promise: promise)
    }

    private func arm(_ context: ChannelHandlerContext) {
        guard timer == nil else { return }
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) {
            context.close(promise: nil)
        }
    }
}

/// The images API's HTTP/1 server: Hummingbird's, with 100-continue answered after
/// authentication, zero-copy file regions for downloads (``FileRegionWriter``), a deadline for
/// request heads (`headerTimeout` seconds), and connections closed after `idleTimeout` seconds
/// without a read or a write (Glance's `client_socket_timeout`). Closing a stalled upload's
/// connection fails its body, so the upload is cleaned up like any cut-off one (image back to
/// `queued`, write session ended) instead of holding its session, and so GC's horizon, forever.
package func apiServer(idleTimeout: Int? = nil, headerTimeout: Int = 60) -> HTTPServerBuilder {
    .http1(
        configuration: .init(
            additionalChannelHandlers: {
                var handlers: [any RemovableChannelHandler] = [
                    // checked: settings cap it at Int32.max
                    HeaderTimeoutHandler(timeout: .seconds(Int64(headerTimeout))), ExpectContinueHandler(), FileRegionWriterInstaller(),
                ]
                if let idleTimeout {
                    // checked: settings cap it at Int32.max
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
