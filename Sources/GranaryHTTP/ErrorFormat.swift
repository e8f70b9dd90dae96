package import HTTPTypes
package import Hummingbird

/// An error that answers in a listener's own format (Glance's on the images API, Glare's on the
/// artifacts API).
package protocol APIErrorResponse: HTTPResponseError {}

/// How a listener turns any error into its API's answer: errors already in the format pass
/// through, everything else is classified once (``APIError/classify(_:)``) and rendered.
/// ``RequestIDMiddleware`` applies it to whatever a handler (or the router) throws.
package struct ErrorFormat: Sendable {
    let make: @Sendable (HTTPResponse.Status, String) -> any APIErrorResponse

    package init(_ make: @escaping @Sendable (HTTPResponse.Status, String) -> any APIErrorResponse) {
        self.make = make
    }

    package func error(_ status: HTTPResponse.Status, _ message: String) -> any APIErrorResponse { make(status, message) }

    package func error(for error: any Error) -> any APIErrorResponse {
        if let rendered = error as? any APIErrorResponse { return rendered }
        let (status, message) = APIError.classify(error)
        return make(status, message)
    }
}
