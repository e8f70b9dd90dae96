/// A request the parsers refuse: the client's mistake, a 400 in either API's format.
public struct BadRequest: Error, Sendable, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
