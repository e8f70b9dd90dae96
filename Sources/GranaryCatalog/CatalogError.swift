/// A domain error: what the client did wrong or what state forbids it, with Glance's wording
/// where clients or tests depend on it. The HTTP layer maps codes to statuses.
package struct CatalogError: Error, Sendable, CustomStringConvertible, Equatable {
    package enum Code: Sendable, Equatable {
        case badRequest, forbidden, notFound, conflict, gone, payloadTooLarge, unsupportedMediaType, rangeNotSatisfiable
    }

    package let code: Code
    package let message: String

    package init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    package var description: String { message }

    static func notFound(image id: String) -> CatalogError { CatalogError(.notFound, "No image found with ID \(id)") }
}
