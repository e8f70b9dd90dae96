import HTTPTypes
import Hummingbird

/// 400 for a body where none is expected, as Glance's `body_reject` routes answer: reads,
/// deletes, deactivate/reactivate and tag changes. A body there is a client bug, and reading
/// past it would leave the connection's framing to chance.
struct BodyRejectMiddleware: RouterMiddleware {
    typealias Context = ImagesRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if Self.hasBody(request) && Self.rejectsBody(request) {
            throw GlanceError(.badRequest, "A body is not expected with this request.")
        }
        return try await next(request, context)
    }

    static func hasBody(_ request: Request) -> Bool {
        if let length = request.headers[.contentLength] { return length != "0" }
        return request.headers[.transferEncoding]?.lowercased().contains("chunked") == true
    }

    static func rejectsBody(_ request: Request) -> Bool {
        switch request.method {
        case .get, .head, .delete: return true
        case .post, .put:
            let path = request.uri.path
            return path.hasSuffix("/actions/deactivate") || path.hasSuffix("/actions/reactivate") || path.contains("/tags/")
        default: return false
        }
    }
}
