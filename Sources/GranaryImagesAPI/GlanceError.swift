import Foundation
package import GranaryHTTP
package import HTTPTypes
package import Hummingbird
package import NIOCore

/// An error answered the way Glance (WebOb) answers it.
package typealias GlanceError = APIFailure<GlanceErrorBody>

/// Glance's error bodies: the form is chosen by `Accept` (Glance: glance/common/wsgi.py and
/// keystonemiddleware). glanceclient sends `*/*` and parses HTML or text; flat JSON would break it.
package enum GlanceErrorBody: ErrorBody {
    package static func render(
        _ status: HTTPResponse.Status, _ explanation: String, exception: String?, for request: Request, headers: inout HTTPFields
    ) throws -> ByteBuffer {
        let title = "\(status.code) \(status.reasonPhrase)"
        let accept = request.headers[.accept] ?? ""
        if accept.contains("application/json") {
            headers[.contentType] = "application/json"
            let payload = ["message": explanation + "<br /><br />\n\n\n", "code": title, "title": status.reasonPhrase]
            return ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: payload, options: [.sortedKeys]))
        } else if accept.contains("*/*") || accept.contains("text/html") {
            headers[.contentType] = "text/html; charset=UTF-8"
            return ByteBuffer(
                string:
                    "<html>\n <head>\n  <title>\(title)</title>\n </head>\n <body>\n  <h1>\(title)</h1>\n  \(htmlEscaped(explanation))<br /><br />\n\n\n\n </body>\n</html>"
            )
        } else {
            headers[.contentType] = "text/plain; charset=UTF-8"
            return ByteBuffer(string: "\(title)\n\n\(explanation)\n\n   ")
        }
    }

    /// Text safe inside HTML, as WebOb escapes an explanation (request text is echoed in them).
    static func htmlEscaped(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#x27;"
            default: out.append(character)
            }
        }
        return out
    }
}

extension ErrorFormat {
    /// The images API's errors: Glance's bodies.
    package static let glance = ErrorFormat(GlanceErrorBody.self)
}
