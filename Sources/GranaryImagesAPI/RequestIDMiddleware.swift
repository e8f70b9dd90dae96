import Foundation
public import HTTPTypes
public import Hummingbird

/// Puts `x-openstack-request-id: req-<uuid>` on every response, as Glance's context middleware
/// does, reusing a well-formed id the client sent (with the `req-` prefix added when missing).
public struct RequestIDMiddleware<Context: RequestContext>: RouterMiddleware {
    public static var headerName: HTTPField.Name { HTTPField.Name("x-openstack-request-id")! }

    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let id = Self.requestID(sentByClient: request.headers[Self.headerName])
        // Handlers read the id from the request (an import's task records it).
        var head = request.head
        head.headerFields[Self.headerName] = id
        let request = Request(head: head, body: request.body)
        do {
            var response = try await next(request, context)
            response.headers[Self.headerName] = id
            return response
        } catch let error as any HTTPResponseError {
            var response = try error.response(from: request, context: context)
            response.headers[Self.headerName] = id
            return response
        }
    }

    /// The id to answer with: the client's (prefixed `req-`) when it is short enough, else a new one.
    static func requestID(sentByClient sent: String?) -> String {
        if let sent, !sent.isEmpty, sent.count <= 60, sent.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" }) {
            return sent.hasPrefix("req-") ? sent : "req-" + sent
        }
        return "req-" + UUID().uuidString.lowercased()
    }
}
