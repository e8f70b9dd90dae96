/// A domain error: what the client did wrong or what state forbids it, with Glance's wording
/// where clients or tests depend on it. The HTTP layer maps codes to statuses.
public struct CatalogError: Error, Sendable, CustomStringConvertible, Equatable {
    public enum Code: Sendable, Equatable {
        case badRequest, forbidden, notFound, conflict, gone, payloadTooLarge, unsupportedMediaType, rangeNotSatisfiable
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }

    static func notFound(image id: String) -> CatalogError { CatalogError(.notFound, "No image found with ID \(id)") }
}
