import GranaryHTTP
import HTTPTypes
import Hummingbird

/// A route handler of the images API.
typealias Handler = @Sendable (Request, APIRequestContext) async throws -> Response

/// The images API's routes as a table, so that each path is served under every version prefix
/// (`/v2/…`, `/v2.N/…`, as Glance rewrites them) and a method the path does not serve gets
/// 405 with `Allow` (Glance's reject-method routes) instead of the router's 404.
struct RouteTable {
    /// Methods that get a 405 where a path does not serve them.
    static let methods: [HTTPRequest.Method] = [.get, .post, .put, .patch, .delete, .head, .options]
    private(set) var routes: [(path: String, handlers: [(HTTPRequest.Method, Handler)])] = []

    /// Adds `handlers` for `path` (relative to the version prefix; "" is the prefix itself).
    mutating func add(_ path: String, _ handlers: [(HTTPRequest.Method, Handler)]) {
        routes.append((path, handlers))
    }

    func register(on router: RouterGroup<APIRequestContext>, prefixes: [String]) {
        for prefix in prefixes {
            for route in routes {
                let path = RouterPath(route.path.isEmpty ? prefix : prefix + "/" + route.path)
                for (method, handler) in route.handlers { router.on(path, method: method, use: handler) }
                let served = route.handlers.map(\.0)
                let allow = served.map(\.rawValue).joined(separator: ", ")
                for method in Self.methods where !served.contains(method) {
                    router.on(path, method: method) { _, _ -> Response in
                        var error = GlanceError(.methodNotAllowed, "The method specified is not allowed for this resource.")
                        error.headers[.allow] = allow
                        throw error
                    }
                }
            }
        }
    }
}
