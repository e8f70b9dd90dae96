import Foundation

/// What went wrong in a load run, with a message a user can act on. ``key`` is how the error
/// is counted in a report: the HTTP status as text, `checksum`, `size` or `connection`.
public struct BenchError: Error, Sendable, CustomStringConvertible {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Internal: Hashable, Sendable {
            case badURL, connection, status(Int), checksum, size, protocolViolation, missingFromList
        }
        private let value: Internal
        private init(_ value: Internal) { self.value = value }

        /// The URL is not an `http://host[:port][/path]` service root.
        public static let badURL = Code(.badURL)
        /// Connecting failed, or the connection broke during an exchange.
        public static let connection = Code(.connection)
        /// The server answered with an unexpected HTTP status.
        public static func status(_ code: Int) -> Code { Code(.status(code)) }
        /// A digest the server reports (or a downloaded object's) differs from what was sent.
        public static let checksum = Code(.checksum)
        /// The size the server reports (or a download's) differs from what was sent.
        public static let size = Code(.size)
        /// The server's answer is not the Glance v2 JSON it should be.
        public static let protocolViolation = Code(.protocolViolation)
        /// A created image did not appear in a full listing.
        public static let missingFromList = Code(.missingFromList)

        /// The report's error key.
        public var description: String {
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

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var key: String { code.description }
    public var description: String { message }
}

/// A Glance v2 service root, as `glance --os-image-url` takes it: `http://host[:port][/prefix]`.
public struct GlanceEndpoint: Sendable {
    public let host: String
    public let port: Int
    /// Path prefix before `/v2`, without a trailing slash (usually empty).
    public let basePath: String
    /// Sent as `X-Auth-Token` when set.
    public let token: String?

    public init(url text: String, token: String? = nil) throws(BenchError) {
        guard let components = URLParts(text) else {
            throw BenchError(.badURL, "--url '\(text)' is not a service root such as http://127.0.0.1:9292")
        }
        guard components.scheme == "http" else {
            throw BenchError(.badURL, "--url '\(text)': only http:// is supported (the benchmark measures the service, not TLS)")
        }
        host = components.host
        port = components.port ?? 80
        basePath = components.path.hasSuffix("/") ? String(components.path.dropLast()) : components.path
        self.token = token
    }

    /// The `Host` header.
    var hostHeader: String { port == 80 ? host : "\(host.contains(":") ? "[\(host)]" : host):\(port)" }
}

/// The parts of an absolute http URL, parsed by hand to keep Foundation's URL quirks out.
private struct URLParts {
    let scheme: String
    let host: String
    let port: Int?
    let path: String

    init?(_ text: String) {
        guard let schemeEnd = text.range(of: "://") else { return nil }
        scheme = text[..<schemeEnd.lowerBound].lowercased()
        let rest = text[schemeEnd.upperBound...]
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        path = String(rest[authorityEnd...].prefix { $0 != "?" && $0 != "#" })
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            host = String(authority[authority.index(after: authority.startIndex)..<close])
            let after = authority[authority.index(after: close)...]
            if after.isEmpty {
                port = nil
            } else {
                guard after.hasPrefix(":"), let value = Int(after.dropFirst()) else { return nil }
                port = value
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = String(authority[..<colon])
            guard let value = Int(authority[authority.index(after: colon)...]) else { return nil }
            port = value
        } else {
            host = String(authority)
            port = nil
        }
        if host.isEmpty || (port.map { !(1...65535).contains($0) } ?? false) { return nil }
    }
}
