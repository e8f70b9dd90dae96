import Foundation
package import HTTPTypes
package import Hummingbird
import Logging

/// Puts `x-openstack-request-id: req-<uuid>` on every response, as Glance's context middleware
/// does, reusing a well-formed id the client sent (with the `req-` prefix added when missing),
/// and logs each request (method, path, status, milliseconds to the response head) with that id,
/// which every log line of the request carries as `request_id`.
///
/// Every error that reaches it, a handler's or the router's, is answered in the listener's
/// ``ErrorFormat``.
package struct RequestIDMiddleware<Context: RequestContext>: RouterMiddleware {
    package static var headerName: HTTPField.Name { .requestID }
    let format: ErrorFormat

    package init(format: ErrorFormat) { self.format = format }

    package func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let id = Self.requestID(sentByClient: request.headers[Self.headerName])
        // Handlers read the id from the request (an import's task records it).
        var head = request.head
        head.headerFields[Self.headerName] = id
        let request = Request(head: head, body: request.body)
        var context = context
        context.logger[metadataKey: "request_id"] = .string(id)
        let started = ContinuousClock.now
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            response = try format.error(for: error).response(from: request, context: context)
        }
        response.headers[Self.headerName] = id
        let elapsed = ContinuousClock.now - started
        let ms = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        context.logger.info(
            "\(request.method) \(request.uri.path) \(response.status.code)",
            metadata: ["ms": .string(String(format: "%.2f", ms))])
        return response
    }

    /// The id to answer with: the client's (prefixed `req-`) when it is short enough, else a new one.
    static func requestID(sentByClient sent: String?) -> String {
        if let sent, !sent.isEmpty, sent.count <= 60, sent.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" }) {
            return sent.hasPrefix("req-") ? sent : "req-" + sent
        }
        return "req-" + UUID().uuidString.lowercased()
    }
}
