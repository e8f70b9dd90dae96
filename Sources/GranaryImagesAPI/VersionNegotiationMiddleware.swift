import GranaryHTTP
import Hummingbird

/// Glance's version negotiation (glance/api/middleware/version_negotiation.py), ahead of
/// authentication as in Glance's pipeline: a path whose first segment is not a served version
/// (`/v1/images`, `/v3/…`, `/v2.99/…`, `/images`) answers 300 with the versions document.
struct VersionNegotiationMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext
    /// The first path segments served: the version prefixes, `versions`, `admin`, and `/` itself.
    let served: Set<String>

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let first = request.uri.path.split(separator: "/", maxSplits: 1).first.map(String.init) ?? ""
        guard served.contains(first) else { return try versionsResponse(for: request, status: .multipleChoices) }
        return try await next(request, context)
    }
}
