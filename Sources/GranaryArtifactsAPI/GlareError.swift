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
    package static func render(
        _ status: HTTPResponse.Status, _ message: String, exception: String?, for request: Request, headers: inout HTTPFields
    ) throws -> ByteBuffer {
        try render(status, message, type: exception ?? type(of: status), headers: &headers)
    }

    /// The body with an explicit exception class name (`type`) and `extra` top-level keys.
    static func render(
        _ status: HTTPResponse.Status, _ message: String, type: String, extra: [String: Any] = [:], headers: inout HTTPFields
    ) throws -> ByteBuffer {
        let body: [String: Any] = [
            "code": status.code, "title": status.reasonPhrase, "explanation": explanation(of: status),
            "error": ["message": message, "type": type],
        ].merging(extra) { first, _ in first }
        headers[.contentType] = "application/json"
        return ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys, .withoutEscapingSlashes]))
    }

    /// WebOb's fixed explanation of each status, which Glare's fault wrapper puts in `explanation`
    /// (the message itself is `error.message`).
    static func explanation(of status: HTTPResponse.Status) -> String {
        switch status.code {
        case 403: "Access was denied to this resource."
        case 404: "The resource could not be found."
        case 409: "There was a conflict when trying to complete your request."
        case 413: "The body of your request was too large for this server."
        case 400..<500: "The server could not comply with the request since\r\nit is either malformed or otherwise incorrect.\r\n"
        default: "The server has either erred or is incapable of performing\r\nthe requested operation.\r\n"
        }
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
