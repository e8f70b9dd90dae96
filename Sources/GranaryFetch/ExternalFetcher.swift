import AsyncHTTPClient
import Foundation
import GranaryCodec
import GranaryParsing
package import NIOCore
import NIOHTTP1

#if canImport(Glibc)
    import Glibc
#endif

/// What the server may fetch: an artifact blob set to an external URL (reference glare.md
/// §4.3), or the URI of a web-download image import (glance-api.md §7.6).
package struct ExternalFetchPolicy: Sendable {
    /// Plain http is refused unless allowed (https is the default scheme).
    package var allowHTTP = false
    /// Hosts (`host` or `host:port`) that may resolve to loopback, private or link-local
    /// addresses; nothing else may.
    package var allowedHosts: Set<String> = []
    /// Ports a URL may name (Glance's `allowed_ports` for web-download: 80 and 443); nil: any.
    package var allowedPorts: Set<Int>?
    /// Whether names must resolve to public addresses only. Off only for URLs the operator
    /// configured, not a client (another region's Glance, from the Keystone catalog).
    package var publicAddressesOnly = true
    /// Seconds for the whole fetch, redirects included.
    package var timeout = 30
    package var maxRedirects = 3
    /// Copy the fetched bytes into the store (the blob then is an ordinary internal one, served
    /// from here) instead of keeping only the record (`artifacts.external.copy`).
    package var copy = false

    package init() {}

    /// For another region's Glance (glance-download): its URL comes from the Keystone catalog,
    /// which the operator keeps, so any address and port; an hour for the whole fetch.
    package static var catalogEndpoint: ExternalFetchPolicy {
        var policy = ExternalFetchPolicy()
        policy.allowHTTP = true
        policy.publicAddressesOnly = false
        policy.maxRedirects = 0
        policy.timeout = 3600
        return policy
    }

    /// Glance's web-download filter (`[import_filtering_opts]`): http and https, ports 80 and
    /// 443; and an hour for the whole fetch, as images are large.
    package static var webDownload: ExternalFetchPolicy {
        var policy = ExternalFetchPolicy()
        policy.allowHTTP = true
        policy.allowedPorts = [80, 443]
        policy.timeout = 3600
        return policy
    }
}

/// What a fetch found: the real size and digests of the bytes behind the URL.
package struct FetchedData: Sendable, Equatable {
    package var url: String
    package var size: Int
    package var md5: String
    package var sha1: String
    package var sha256: String
    package var contentType: String?
}

/// Fetches what a client names by URL: an artifact's external location, once, through md5, sha1
/// and sha256, to record what it really holds (Glare stored client-claimed checksums
/// unverified); a web-download import's URI, streamed into the store. Guarded against
/// server-side request forgery: https only (http when allowed), allowed ports only, no
/// credentials in the URL, every name resolved and refused when any of its addresses is
/// loopback, private, link-local (cloud metadata), multicast or unspecified unless
/// allow-listed, redirects followed by hand and re-checked (at most `maxRedirects`), one
/// deadline for everything, and a size cap counted on the bytes (Content-Length is not
/// trusted). For http the connection goes to the checked address.
package final class ExternalFetcher: Sendable {
    package let policy: ExternalFetchPolicy

    package init(policy: ExternalFetchPolicy) {
        self.policy = policy
    }

    /// Fetches `text` (following checked redirects) and hashes its bytes.
    package func fetch(_ text: String, cap: Int) async throws -> FetchedData {
        try await open(text, cap: cap).read()
    }

    /// An answered fetch whose body has not been read yet: what a copy into the store needs
    /// first (the content type), and then the bytes.
    package struct Opened: Sendable {
        /// The URL that answered (after redirects).
        package let url: String
        package let contentType: String?
        let response: HTTPClientResponse
        let cap: Int

        /// Reads the body through md5, sha1 and sha256, handing each buffer to `each` as well.
        package func read(_ each: (ByteBuffer) async throws -> Void = { _ in }) async throws -> FetchedData {
            let md5 = StreamingDigest(.md5)
            let sha1 = StreamingDigest(.sha1)
            let sha256 = StreamingDigest(.sha256)
            let size = try await stream { buffer in
                buffer.withUnsafeReadableBytes { bytes in
                    md5.update(bytes)
                    sha1.update(bytes)
                    sha256.update(bytes)
                }
                try await each(buffer)
            }
            return FetchedData(
                url: url, size: size, md5: md5.finalize().hex, sha1: sha1.finalize().hex, sha256: sha256.finalize().hex, contentType: contentType)
        }

        /// Hands each buffer of the body to `each`, counting bytes against the cap.
        /// - Returns: the body's size.
        ///
        /// #### Errors
        /// ``OutboundError``: `tooLarge` past the cap, `unreachable` when the remote stops
        /// sending; and whatever `each` throws.
        package func stream(_ each: (ByteBuffer) async throws -> Void) async throws -> Int {
            var size = 0
            var body = response.body.makeAsyncIterator()
            while true {
                let next: ByteBuffer?
                do {
                    next = try await body.next()
                } catch {
                    throw OutboundError(.unreachable, "\(url) stopped sending: \(error)")
                }
                guard let buffer = next else { break }
                size += buffer.readableBytes
                if size > cap { throw OutboundError(.tooLarge, "\(url) holds more than the \(cap) bytes allowed here.") }
                try await each(buffer)
            }
            return size
        }
    }

    /// Requests `text`, following redirects (each re-checked), up to the answer's headers.
    package func open(_ text: String, cap: Int, headers: [(String, String)] = []) async throws -> Opened {
        let deadline = NIODeadline.now() + .seconds(Int64(policy.timeout))  // checked: settings cap it
        var current = text
        for _ in 0...policy.maxRedirects {
            var (request, host) = try checkedRequest(current)
            for (name, value) in headers { request.headers.replaceOrAdd(name: name, value: value) }
            let response = try await OutboundHTTP.send(request, deadline: deadline, service: current)
            if [301, 302, 303, 307, 308].contains(response.status.code) {
                guard let location = response.headers.first(name: "Location"), let next = URL(string: location, relativeTo: URL(string: current))
                else {
                    throw OutboundError(.unreachable, "\(current) redirects without a usable Location")
                }
                current = next.absoluteString
                continue
            }
            guard response.status.code == 200 else {
                throw OutboundError(.unreachable, "\(current) answered HTTP \(response.status.code) (from \(host))")
            }
            return Opened(url: current, contentType: response.headers.first(name: "Content-Type"), response: response, cap: cap)
        }
        throw OutboundError(.unreachable, "\(text) redirects more than \(policy.maxRedirects) times")
    }

    /// Applies the URL rules and the address checks to `text` without connecting: a web-download
    /// URI is refused at once (400), as Glance's import filter does.
    package func check(_ text: String) throws {
        _ = try checkedRequest(text)
    }

    /// The request for `text` after the URL rules and the address checks.
    func checkedRequest(_ text: String) throws -> (HTTPClientRequest, String) {
        let url: FetchURL
        do {
            url = try FetchURL(text, allowHTTP: policy.allowHTTP, allowedPorts: policy.allowedPorts)
        } catch {
            throw OutboundError(.refused, error.description)
        }
        let (scheme, host, port) = (url.scheme, url.host, url.port)
        let allowed = policy.allowedHosts.contains(host.lowercased()) || policy.allowedHosts.contains("\(host.lowercased()):\(port)")
        let addresses = Self.resolve(host, port: port)
        guard let first = addresses.first else { throw OutboundError(.unreachable, "\(host) does not resolve") }
        if policy.publicAddressesOnly, !allowed, addresses.contains(where: { !Self.isPublic($0) }) {
            throw OutboundError(
                // Which address it was is not said: that would tell callers what internal names resolve to.
                .refused, "\(host) resolves to a non-public address; only public addresses are fetched unless the host is allow-listed")
        }
        var request = HTTPClientRequest(url: text)
        if scheme == "http", var components = URLComponents(string: text) {
            // Connect to the address just checked, so that a second resolution cannot differ.
            components.host = first.contains(":") ? "[\(first)]" : first
            request = HTTPClientRequest(url: components.string ?? text)
            request.headers.replaceOrAdd(name: "Host", value: url.explicitPort ? "\(host):\(port)" : host)
        }
        request.headers.add(name: "User-Agent", value: "granary")
        return (request, first)
    }

    /// Every address `host` resolves to, as text.
    static func resolve(_ host: String, port: Int) -> [String] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)  // checked: a small constant
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &list) == 0, let list else { return [] }
        defer { freeaddrinfo(list) }
        var result: [String] = []
        var entry: UnsafeMutablePointer<addrinfo>? = list
        while let current = entry {
            var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))  // checked: a small constant
            if current.pointee.ai_family == AF_INET {
                var address = current.pointee.ai_addr.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr }
                inet_ntop(AF_INET, &address, &buffer, socklen_t(buffer.count))
            } else if current.pointee.ai_family == AF_INET6 {
                var address = current.pointee.ai_addr.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee.sin6_addr }
                inet_ntop(AF_INET6, &address, &buffer, socklen_t(buffer.count))
            }
            let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if !text.isEmpty && !result.contains(text) { result.append(text) }
            entry = current.pointee.ai_next
        }
        return result
    }

    /// Whether an address is on the public internet: not loopback, private (RFC 1918, ULA),
    /// shared (100.64/10), link-local (169.254/16 with the cloud metadata service, fe80::/10),
    /// multicast, unspecified or reserved.
    static func isPublic(_ address: String) -> Bool {
        if address.contains(":") {
            let lower = address.lowercased()
            if lower == "::1" || lower == "::" { return false }
            if lower.hasPrefix("::ffff:") { return isPublic(String(lower.dropFirst(7))) }
            if let first = lower.split(separator: ":").first, let word = UInt16(first, radix: 16) {  // checked: a string parse, nil on overflow
                if word & 0xFE00 == 0xFC00 { return false }  // fc00::/7
                if word & 0xFFC0 == 0xFE80 { return false }  // fe80::/10
                if word & 0xFF00 == 0xFF00 { return false }  // ff00::/8
            }
            return true
        }
        let octets = address.split(separator: ".").compactMap { UInt8($0) }  // checked: a string parse, nil on overflow
        guard octets.count == 4 else { return false }
        switch (octets[0], octets[1]) {  // checked: four octets
        case (0, _), (10, _), (127, _), (169, 254), (192, 168), (224...255, _): return false
        case (172, 16...31), (100, 64...127), (198, 18...19): return false
        default: return true
        }
    }
}
