package import AsyncHTTPClient
package import Foundation
package import NIOCore
import NIOFoundationCompat
package import NIOHTTP1

/// The process's one outbound HTTP setup: one client (redirects off: the fetchers follow them by
/// hand, re-checking each), every call bounded by a deadline, every failure an ``OutboundError``.
/// The external-data fetchers (``ExternalFetcher``, with the address policy) and the protocol
/// clients (Keystone token validation; later Swift, S3 and Barbican) build on it.
package enum OutboundHTTP {
    static let client = HTTPClient(
        eventLoopGroupProvider: .singleton,
        configuration: HTTPClient.Configuration(redirectConfiguration: .disallow, timeout: .init(connect: .seconds(10), read: .seconds(30))))

    /// Sends `request` and answers the response once its head has arrived, by `deadline`.
    /// `service` names the other side in the error ("Keystone at http://…").
    package static func send(_ request: HTTPClientRequest, deadline: NIODeadline, service: String) async throws(OutboundError)
        -> HTTPClientResponse
    {
        do {
            return try await client.execute(request, deadline: deadline)
        } catch {
            throw OutboundError(.unreachable, "\(service) could not be reached: \(error)")
        }
    }

    /// A whole exchange: `request` sent and at most `limit` bytes of the answer read, within
    /// `timeout` seconds.
    package static func exchange(_ request: HTTPClientRequest, timeout: Int, limit: Int, service: String) async throws(OutboundError)
        -> OutboundResponse
    {
        let deadline = NIODeadline.now() + .seconds(Int64(timeout))  // checked: callers pass seconds from settings or constants
        let response = try await send(request, deadline: deadline, service: service)
        do {
            let body = try await response.body.collect(upTo: limit)
            // checked: a UInt widened from three digits
            return OutboundResponse(status: Int(response.status.code), headers: response.headers, body: Data(buffer: body))
        } catch {
            throw OutboundError(.unreachable, "\(service) stopped answering: \(error)")
        }
    }
}

/// An answer read whole.
package struct OutboundResponse: Sendable {
    package let status: Int
    package let headers: HTTPHeaders
    package let body: Data
}

/// Why an outbound request gave nothing usable, in words a user can act on.
package struct OutboundError: Error, Sendable, CustomStringConvertible {
    package enum Kind: Sendable {
        /// Granary's own rules refused the URL (scheme, port, address); nothing was sent.
        case refused
        /// The other side could not be reached, answered an error, or stopped sending.
        case unreachable
        /// The other side sent more than the cap allows.
        case tooLarge
    }
    package let kind: Kind
    package let description: String

    package init(_ kind: Kind, _ description: String) {
        self.kind = kind
        self.description = description
    }
}
