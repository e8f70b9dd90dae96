import Foundation
public import GranaryCatalog
import GranaryStore
public import HTTPTypes
public import Hummingbird
import NIOCore

/// An error answered the way Glance (WebOb) answers it: the body's form is chosen by `Accept`
/// (reference §2). glanceclient sends `*/*` and parses HTML or text; flat JSON would break it.
public struct GlanceError: HTTPResponseError, Sendable {
    public let status: HTTPResponse.Status
    public let explanation: String
    public var headers: HTTPFields = [:]

    public init(_ status: HTTPResponse.Status, _ explanation: String) {
        self.status = status
        self.explanation = explanation
    }

    /// Maps domain and storage errors to Glance's statuses.
    public init(_ error: any Error) {
        switch error {
        case let error as GlanceError: self = error
        case let error as CatalogError:
            self.init(error.code.httpStatus, error.message)
        case let error as StoreError where error.code == .io && error.message.contains("No space left"):
            self.init(.contentTooLarge, "Image storage media is full: \(error.message)")
        case let error as StoreError:
            self.init(.internalServerError, "The store failed: \(error)")
        default:
            self.init(.internalServerError, "\(error)")
        }
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
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
                "<html>\n <head>\n  <title>\(title)</title>\n </head>\n <body>\n  <h1>\(title)</h1>\n  \(explanation)<br /><br />\n\n\n\n </body>\n</html>"
        } else {
            headers[.contentType] = "text/plain; charset=UTF-8"
            body = "\(title)\n\n\(explanation)\n\n   "
        }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}

extension CatalogError.Code {
    /// The HTTP status of a domain error, the same for the images and the artifacts API.
    public var httpStatus: HTTPResponse.Status {
        switch self {
        case .badRequest: .badRequest
        case .forbidden: .forbidden
        case .notFound: .notFound
        case .conflict: .conflict
        case .gone: .gone
        case .payloadTooLarge: .contentTooLarge
        case .unsupportedMediaType: .unsupportedMediaType
        case .rangeNotSatisfiable: .rangeNotSatisfiable
        }
    }
}
