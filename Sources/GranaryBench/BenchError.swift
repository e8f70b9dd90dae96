/// What went wrong in a load run, with a message a user can act on. ``key`` is how the error
/// is counted in a report: the HTTP status as text, `checksum`, `size` or `connection`.
package struct BenchError: Error, Sendable, CustomStringConvertible {
    package struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Internal: Hashable, Sendable {
            case badURL, connection, status(Int), checksum, size, protocolViolation, missingFromList
        }
        private let value: Internal
        private init(_ value: Internal) { self.value = value }

        /// The URL is not an `http://host[:port][/path]` service root.
        package static let badURL = Code(.badURL)
        /// Connecting failed, or the connection broke during an exchange.
        package static let connection = Code(.connection)
        /// The server answered with an unexpected HTTP status.
        package static func status(_ code: Int) -> Code { Code(.status(code)) }
        /// A digest the server reports (or a downloaded object's) differs from what was sent.
        package static let checksum = Code(.checksum)
        /// The size the server reports (or a download's) differs from what was sent.
        package static let size = Code(.size)
        /// The server's answer is not the Glance v2 JSON it should be.
        package static let protocolViolation = Code(.protocolViolation)
        /// A created image did not appear in a full listing.
        package static let missingFromList = Code(.missingFromList)

        /// The report's error key.
        package var description: String {
            switch value {
            case .badURL: "bad_url"
            case .connection: "connection"
            case .status(let code): String(code)
            case .checksum: "checksum"
            case .size: "size"
            case .protocolViolation: "protocol"
            case .missingFromList: "missing_from_list"
            }
        }
    }

    package let code: Code
    package let message: String

    package init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    package var key: String { code.description }
    package var description: String { message }
}
