package import GranaryCatalog
import GranaryFetch
import GranaryParsing
import GranaryStore
package import HTTPTypes
import Hummingbird
import NIOCore
import NIOHTTP1

/// The one mapping of errors to an HTTP status and a message, shared by both APIs' error
/// formats: a domain error says what the client did; framework and framing errors are the
/// client's too; anything else is the server's, and its text is kept out of the answer.
package enum APIError {
    package static func classify(_ error: any Error) -> (HTTPResponse.Status, String) {
        switch error {
        case let error as CatalogError: (error.code.httpStatus, error.message)
        case let error as BadRequest: (.badRequest, error.description)
        case is UnsatisfiableRange: (.rangeNotSatisfiable, "The requested range is not satisfiable.")
        // A URL a client named that could not be fetched is the client's to fix.
        case let error as OutboundError: (error.kind == .tooLarge ? .contentTooLarge : .badRequest, error.description)
        // Hummingbird's own: a body over the collect limit (413) and the like.
        case let error as HTTPError: (error.status, error.body ?? error.status.reasonPhrase)
        case is NIOTooManyBytesError: (.contentTooLarge, "The request body is too large.")
        case is HTTPParserError: (.badRequest, "The request could not be parsed (bad HTTP framing).")
        case let error as StoreError where error.code == .noSpace:
            (.contentTooLarge, "Image storage media is full: \(error.message)")
        case let error as StoreError where error.code == .unavailable:
            (.serviceUnavailable, "The image store is unavailable: \(error.message)")
        case let error as StoreError: (.internalServerError, "The store failed: \(error)")
        default: (.internalServerError, "\(error)")
        }
    }
}

extension APIError {
    /// Headers an error's answer carries whatever the API's format.
    package static func headers(for error: any Error) -> HTTPFields {
        guard let range = error as? UnsatisfiableRange else { return [:] }
        return [.contentRange: "bytes */\(range.size)"]
    }

    /// The upstream exception class a domain error names, if any.
    package static func exception(for error: any Error) -> String? { (error as? CatalogError)?.exception }
}

extension CatalogError.Code {
    /// The HTTP status of a domain error, the same for the images and the artifacts API.
    package var httpStatus: HTTPResponse.Status {
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
