/// A domain error: what the client did wrong or what state forbids it, with Glance's wording
/// where clients or tests depend on it. The HTTP layer maps codes to statuses.
package struct CatalogError: Error, Sendable, CustomStringConvertible, Equatable {
    package enum Code: Sendable, Equatable {
        case badRequest, forbidden, notFound, conflict, gone, payloadTooLarge, unsupportedMediaType, rangeNotSatisfiable
    }

    package let code: Code
    package let message: String
    /// The upstream exception class clients see (Glare's `error.type`, e.g. `ArtifactNotFound`)
    /// where it is not the status's generic one.
    package var exception: String?

    package init(_ code: Code, _ message: String, exception: String? = nil) {
        self.code = code
        self.message = message
        self.exception = exception
    }

    package var description: String { message }

    static func notFound(image id: String) -> CatalogError { CatalogError(.notFound, "No image found with ID \(id)") }
}
