import Foundation
package import GranaryHTTP
package import HTTPTypes
package import Hummingbird
import NIOCore

/// An error in Glare's body format (`glare/api/middleware/fault.py`):
/// `{"code", "title", "explanation", "error": {"message", "type"}}`.
package struct GlareError: APIErrorResponse, Sendable {
    package let status: HTTPResponse.Status
    package let message: String
    package var headers: HTTPFields = [:]

    package init(_ status: HTTPResponse.Status, _ message: String) {
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

    package func response(from request: Request, context: some RequestContext) throws -> Response {
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
    package static let glare = ErrorFormat { GlareError($0, $1) }
}
