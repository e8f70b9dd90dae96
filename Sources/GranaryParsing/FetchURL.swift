import Foundation

/// A URL the server is asked to fetch (an artifact's external location, a web-download URI),
/// checked against the rules that need no network: absolute http(s) (http only when allowed),
/// no credentials, a TCP port, one of the allowed ports. Which addresses the host resolves to is
/// the fetcher's check, after this one.
package struct FetchURL: Sendable, Equatable {
    package let scheme: String
    package let host: String
    /// The port connected to: the URL's, or the scheme's default.
    package let port: Int
    /// Whether the URL names its port (then the `Host` header carries it).
    package let explicitPort: Bool

    /// Why a URL is refused, in words for the caller.
    package struct Refused: Error, Sendable, CustomStringConvertible, Equatable {
        package let description: String
    }

    package init(_ text: String, allowHTTP: Bool, allowedPorts: Set<Int>?) throws(Refused) {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(), let host = components.host,
            !host.isEmpty
        else {
            throw Refused(description: "'\(text)' is not an absolute http(s) URL")
        }
        guard scheme == "https" || (scheme == "http" && allowHTTP) else {
            throw Refused(description: "\(scheme) URLs are not fetched here (https\(allowHTTP ? " or http" : ""))")
        }
        guard components.user == nil && components.password == nil else {
            throw Refused(description: "URLs to fetch must not carry credentials")
        }
        let port = components.port ?? (scheme == "https" ? 443 : 80)
        guard (1...65535).contains(port) else { throw Refused(description: "port \(port) is not a TCP port") }
        if let allowedPorts, !allowedPorts.contains(port) {
            throw Refused(description: "port \(port) is not allowed (allowed: \(allowedPorts.sorted().map(String.init).joined(separator: ", ")))")
        }
        self.scheme = scheme
        self.host = host
        self.port = port
        explicitPort = components.port != nil
    }
}
