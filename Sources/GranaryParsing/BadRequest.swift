/// A request the parsers refuse: the client's mistake, a 400 in either API's format.
package struct BadRequest: Error, Sendable, CustomStringConvertible, Equatable {
    package let description: String
    package init(_ description: String) { self.description = description }
}
