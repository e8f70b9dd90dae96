package import HTTPTypes
package import Hummingbird
package import NIOCore

/// An error that answers in a listener's own format (Glance's on the images API, Glare's on the
/// artifacts API).
package protocol APIErrorResponse: HTTPResponseError {}

/// How one API writes an error's body (Glance: by `Accept`; Glare: JSON, naming the
/// `exception` class when there is one); `headers` gets the content type.
package protocol ErrorBody: Sendable {
    static func render(_ status: HTTPResponse.Status, _ message: String, exception: String?, for request: Request, headers: inout HTTPFields)
        throws -> ByteBuffer
}

/// An error answered in `Body`'s format: a status, the message users read, and extra headers.
package struct APIFailure<Body: ErrorBody>: APIErrorResponse, Sendable {
    package let status: HTTPResponse.Status
    package let message: String
    package var headers: HTTPFields = [:]
    package var exception: String?

    package init(_ status: HTTPResponse.Status, _ message: String) {
        self.status = status
        self.message = message
    }

    package func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers = self.headers
        let body = try Body.render(status, message, exception: exception, for: request, headers: &headers)
        return Response(status: status, headers: headers, body: .init(byteBuffer: body))
    }
}

/// How a listener turns any error into its API's answer: errors already in the format pass
/// through, everything else is classified once (``APIError/classify(_:)``) and rendered.
/// ``RequestIDMiddleware`` applies it to whatever a handler (or the router) throws.
package struct ErrorFormat: Sendable {
    let make: @Sendable (HTTPResponse.Status, String, HTTPFields, String?) -> any APIErrorResponse

    /// The format whose errors `Body` writes.
    package init<Body: ErrorBody>(_ body: Body.Type) {
        make = { status, message, headers, exception in
            var failure = APIFailure<Body>(status, message)
            failure.headers = headers
            failure.exception = exception
            return failure
        }
    }

    package func error(_ status: HTTPResponse.Status, _ message: String, headers: HTTPFields = [:]) -> any APIErrorResponse {
        make(status, message, headers, nil)
    }

    package func error(for error: any Error) -> any APIErrorResponse {
        if let rendered = error as? any APIErrorResponse { return rendered }
        let (status, message) = APIError.classify(error)
        return make(status, message, APIError.headers(for: error), APIError.exception(for: error))
    }
}
