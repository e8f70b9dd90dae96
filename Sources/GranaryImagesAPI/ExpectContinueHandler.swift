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

/// The images API's HTTP/1 server: Hummingbird's, with 100-continue answered.
public func imagesServer() -> HTTPServerBuilder {
    .http1(configuration: .init(additionalChannelHandlers: [ExpectContinueHandler()]))
}
