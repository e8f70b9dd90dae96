import Foundation
public import GranaryHTTP
public import HTTPTypes
public import Hummingbird
import NIOCore

/// An error in Glare's body format (`glare/api/middleware/fault.py`):
/// `{"code", "title", "explanation", "error": {"message", "type"}}`.
public struct GlareError: APIErrorResponse, Sendable {
    public let status: HTTPResponse.Status
    public let message: String
    public var headers: HTTPFields = [:]

    public init(_ status: HTTPResponse.Status, _ message: String) {
        self.status = status
        self.message = message
    }

    /// Glare's exception class names, which clients show.
    var type: String {
        switch status.code {
        case 400: "BadRequest"
        case 403: "Forbidden"
        case 404: "NotFound"
        case 405: "MethodNotAllowed"
        case 409: "Conflict"
        case 413: "RequestEntityTooLarge"
        case 415: "UnsupportedMediaType"
        case 416: "RequestedRangeNotSatisfiable"
        default: "GlareException"
        }
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let body: [String: Any] = [
            "code": status.code, "title": status.reasonPhrase, "explanation": message, "error": ["message": message, "type": type],
        ]
        var headers = self.headers
        headers[.contentType] = "application/json"
        let data = try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys, .withoutEscapingSlashes])
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

extension ErrorFormat {
    /// The artifacts API's errors: Glare's bodies.
    public static let glare = ErrorFormat { GlareError($0, $1) }
}
