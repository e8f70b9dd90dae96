import Foundation
package import GranaryHTTP
package import HTTPTypes
package import Hummingbird
import NIOCore

/// An error answered the way Glance (WebOb) answers it: the body's form is chosen by `Accept`
/// (Glance: glance/common/wsgi.py and keystonemiddleware). glanceclient sends `*/*` and parses HTML or text; flat JSON would break it.
package struct GlanceError: APIErrorResponse, Sendable {
    package let status: HTTPResponse.Status
    package let explanation: String
    package var headers: HTTPFields = [:]

    package init(_ status: HTTPResponse.Status, _ explanation: String) {
        self.status = status
        self.explanation = explanation
    }

    package func response(from request: Request, context: some RequestContext) throws -> Response {
        let title = "\(status.code) \(status.reasonPhrase)"
        let accept = request.headers[.accept] ?? ""
        var headers = self.headers
        let body: String
        if accept.contains("application/json") {
            headers[.contentType] = "application/json"
            let payload = ["message": explanation + "<br /><br />\n\n\n", "code": title, "title": status.reasonPhrase]
            let data = try JSONSerialization.data(withJSONObject: payload, options: [.sortedKeys])
            body = String(decoding: data, as: UTF8.self)
        } else if accept.contains("*/*") || accept.contains("text/html") {
            headers[.contentType] = "text/html; charset=UTF-8"
            body =
                "<html>\n <head>\n  <title>\(title)</title>\n </head>\n <body>\n  <h1>\(title)</h1>\n  \(Self.htmlEscaped(explanation))<br /><br />\n\n\n\n </body>\n</html>"
        } else {
            headers[.contentType] = "text/plain; charset=UTF-8"
            body = "\(title)\n\n\(explanation)\n\n   "
        }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}

extension GlanceError {
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
    package static let glance = ErrorFormat { GlanceError($0, $1) }
}
