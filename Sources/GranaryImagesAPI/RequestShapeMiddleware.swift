import GranaryHTTP
import HTTPTypes
import Hummingbird

/// Requests Glance's router refuses before any handler runs:
/// - a path with a trailing slash (`/v2/images/`, an empty image id) or an empty segment
///   (`/v2//images`) is 404, as Glance's routes match no such path (the router here would
///   otherwise serve it as `/v2/images`);
/// - a body where none is expected is 400, as Glance's `body_reject` routes answer: reads,
///   deletes, deactivate/reactivate and tag changes. A body there is a client bug.
struct RequestShapeMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        if (path.count > 1 && path.hasSuffix("/")) || path.contains("//") {
            throw GlanceError(.notFound, "The resource could not be found.")
        }
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
            return path.hasSuffix("/actions/deactivate") || path.hasSuffix("/actions/reactivate")
                || (path.contains("/images/") && path.contains("/tags/"))
        default: return false
        }
    }
}
