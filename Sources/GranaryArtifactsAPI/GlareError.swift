import Foundation
package import GranaryHTTP
package import HTTPTypes
package import Hummingbird
package import NIOCore

/// An error in Glare's body format.
package typealias GlareError = APIFailure<GlareErrorBody>

/// Glare's error bodies (`glare/api/middleware/fault.py`):
/// `{"code", "title", "explanation", "error": {"message", "type"}}`.
package enum GlareErrorBody: ErrorBody {
    package static func render(_ status: HTTPResponse.Status, _ message: String, for request: Request, headers: inout HTTPFields) throws
        -> ByteBuffer
    {
        let body: [String: Any] = [
            "code": status.code, "title": status.reasonPhrase, "explanation": message,
            "error": ["message": message, "type": type(of: status)],
        ]
        headers[.contentType] = "application/json"
        return ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys, .withoutEscapingSlashes]))
    }

    /// Glare's exception class names, which clients show.
    static func type(of status: HTTPResponse.Status) -> String {
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
}

extension ErrorFormat {
    /// The artifacts API's errors: Glare's bodies.
    package static let glare = ErrorFormat(GlareErrorBody.self)
}
