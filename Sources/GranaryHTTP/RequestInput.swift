import GranaryCatalog
package import GranaryParsing
package import Hummingbird

/// What a handler reads of the request line, decoded as Glance's WebOb decodes it.
extension Request {
    /// Largest JSON body a request may carry (413 past it).
    package static let maxJSONBytes = 1 << 20

    /// The body as JSON (``JSONText``'s rules); 413 past ``maxJSONBytes``, 400 when malformed.
    package func json() async throws -> JSONValue {
        let buffer = try await body.collect(upTo: Self.maxJSONBytes)
        do {
            return try JSONText.parse(buffer.readableBytesView)
        } catch {
            throw CatalogError(.badRequest, "Malformed JSON in request body: \(error.description).")
        }
    }

    /// The query parameters in order, `+` a space and `%XX` decoded; more than
    /// ``QueryString/maxParameters`` is a 400.
    package func queryItems() throws(BadRequest) -> [(String, String)] {
        try QueryString.parameters(uri.query ?? "")
    }
}

extension APIRequestContext {
    /// A path parameter, percent-decoded (`…/tags/a%20b` is the tag `a b`).
    package func pathParameter(_ name: String) throws -> String {
        PercentDecoding.decode(try parameters.require(name))
    }

    /// A path parameter that may be absent, percent-decoded.
    package func optionalPathParameter(_ name: String) -> String? {
        parameters.get(name).map(PercentDecoding.decode)
    }

    /// The path after a `**` route, each segment percent-decoded.
    package func catchAllPath() -> String {
        parameters.getCatchAll().map(PercentDecoding.decode).joined(separator: "/")
    }
}
