import Foundation

/// A Glance v2 service root, as `glance --os-image-url` takes it: `http://host[:port][/prefix]`.
package struct GlanceEndpoint: Sendable {
    package let host: String
    package let port: Int
    /// Path prefix before `/v2`, without a trailing slash (usually empty).
    package let basePath: String
    /// Sent as `X-Auth-Token` when set.
    package let token: String?

    package init(url text: String, token: String? = nil) throws(BenchError) {
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
    var hostHeader: String {
        let name = host.contains(":") ? "[\(host)]" : host
        return port == 80 ? name : "\(name):\(port)"
    }
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
