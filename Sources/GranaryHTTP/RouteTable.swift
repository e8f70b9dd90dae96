package import HTTPTypes
package import Hummingbird

/// A route handler of either API.
package typealias Handler = @Sendable (Request, APIRequestContext) async throws -> Response

/// An API's routes as a table, so that each path is served under every version prefix
/// (`/v2/…`, `/v2.N/…`, as Glance rewrites them) and a method the path does not serve gets
/// 405 with `Allow` in the API's error format (Glance's and Glare's reject-method routes)
/// instead of the router's 404.
package struct RouteTable {
    /// Methods that get a 405 where a path does not serve them.
    static let methods: [HTTPRequest.Method] = [.get, .post, .put, .patch, .delete, .head, .options]
    private(set) var routes: [(path: String, handlers: [(HTTPRequest.Method, Handler)])] = []

    package init() {}

    /// Adds `handlers` for `path` (relative to the version prefix; "" is the prefix itself).
    package mutating func add(_ path: String, _ handlers: [(HTTPRequest.Method, Handler)]) {
        routes.append((path, handlers))
    }

    /// Registers every route under each of `prefixes` ("" for none).
    package func register(on router: RouterGroup<APIRequestContext>, prefixes: [String] = [""], format: ErrorFormat) {
        for prefix in prefixes {
            for route in routes {
                let path = RouterPath([prefix, route.path].filter { !$0.isEmpty }.joined(separator: "/"))
                for (method, handler) in route.handlers { router.on(path, method: method, use: handler) }
                let served = route.handlers.map(\.0)
                let allow = served.map(\.rawValue).joined(separator: ", ")
                for method in Self.methods where !served.contains(method) {
                    router.on(path, method: method) { _, _ -> Response in
                        throw format.error(.methodNotAllowed, "The method specified is not allowed for this resource.", headers: [.allow: allow])
                    }
                }
            }
        }
    }
}
