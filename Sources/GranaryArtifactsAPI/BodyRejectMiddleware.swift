import GranaryHTTP
import HTTPTypes
import Hummingbird

/// Glare's `body_reject` routes (glare/api/v1/router.py, glare/common/wsgi.py): a GET, or the
/// DELETE of an artifact (not of a blob), whose `Content-Length` announces a body is a 400.
struct BodyRejectMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let announced = request.headers[.contentLength].map { $0 != "0" } ?? false
        if announced && Self.rejectsBody(request) {
            throw GlareError(.badRequest, "A body is not expected with this request.")
        }
        return try await next(request, context)
    }

    static func rejectsBody(_ request: Request) -> Bool {
        switch request.method {
        case .get, .head: return true
        case .delete:
            // /artifacts/{type}/{id}: three segments; a blob's path has more.
            return request.uri.path.split(separator: "/").count == 3
        default: return false
        }
    }
}
