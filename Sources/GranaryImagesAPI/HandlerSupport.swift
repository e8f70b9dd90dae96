import Foundation
import GranaryHTTP
import GranaryIndex
import GranaryParsing
import HTTPTypes
import Hummingbird
import NIOCore

/// A route handler of the images API.
typealias Handler = @Sendable (Request, APIRequestContext) async throws -> Response

/// Runs a handler body, turning domain and store errors into Glance's error responses.
func glanceErrors<R>(_ body: () async throws -> R) async throws -> R {
    do { return try await body() } catch { throw GlanceError(error) }
}

/// A JSON response (Glance's serializers: sorted keys, unescaped slashes).
func jsonResponse(_ object: Any, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) throws -> Response {
    var headers = headers
    headers[.contentType] = "application/json"
    return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: try ImageJSON.data(object))))
}

/// A response of JSON text already written (see ``JSONWriter``).
func jsonResponse(bytes: [UInt8], status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
    var headers = headers
    headers[.contentType] = "application/json"
    return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
}

/// The request body as a JSON object (Glance parses JSON whatever the Content-Type).
func requestJSONObject(_ request: Request) async throws -> [String: JSONValue] {
    guard RequestShapeMiddleware.hasBody(request) else { throw GlanceError(.badRequest, "Body expected in request.") }
    guard case .object(let object) = try await request.json() else { throw GlanceError(.badRequest, "Expected a JSON object in the request body.") }
    return object
}

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

/// A list's `first` or `next` link: `path` with the request's query parameters, its marker
/// replaced by `marker` (dropped when nil), as Glance builds them.
func pageLink(_ path: String, _ parameters: [(String, String)], marker: String?) -> String {
    var items = parameters.filter { $0.0 != "marker" }
    if let marker { items.append(("marker", marker)) }
    guard !items.isEmpty else { return path }
    var components = URLComponents()
    components.queryItems = items.map { URLQueryItem(name: $0.0, value: $0.1) }
    return path + "?" + (components.percentEncodedQuery ?? "")
}
