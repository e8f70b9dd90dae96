import Foundation
import GranaryHTTP
import GranaryIndex
import GranaryParsing
import HTTPTypes
import Hummingbird
import NIOCore

/// A JSON response (Glance's serializers: sorted keys, unescaped slashes).
func jsonResponse(_ object: Any, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) throws -> Response {
    var headers = headers
    headers[.contentType] = "application/json"
    return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: try ImageJSON.data(object))))
}

/// `value` as JSON with sorted keys and unescaped slashes, as the other answers.
func sortedJSON(_ value: some Encodable) throws -> [UInt8] {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return Array(try encoder.encode(value))
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
