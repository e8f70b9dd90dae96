import AsyncHTTPClient
import Foundation
package import GranaryCatalog
import GranaryFetch
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import Synchronization

/// Validates `X-Auth-Token`s against Keystone v3, as keystonemiddleware does for Glance: the
/// service's own token (from its credentials) asks `GET /v3/auth/tokens` about the caller's
/// token, and the answer's project, user and roles become the ``Caller``. Without service
/// credentials each token validates itself (Keystone lets a token's subject read it).
/// Answers are cached until the token expires, at most ``cacheSeconds``, so a busy client costs
/// Keystone one call per token per few minutes, not one per request.
package final class KeystoneValidator: Sendable {
    /// The service user Granary authenticates as (keystonemiddleware's `[keystone_authtoken]`).
    package struct ServiceCredentials: Sendable {
        package var username: String
        package var password: String
        package var project: String
        package var userDomain: String
        package var projectDomain: String

        package init(username: String, password: String, project: String, userDomain: String = "Default", projectDomain: String = "Default") {
            self.username = username
            self.password = password
            self.project = project
            self.userDomain = userDomain
            self.projectDomain = projectDomain
        }
    }

    /// The v3 root, e.g. `http://127.0.0.1:5000/v3`.
    package let url: String
    let credentials: ServiceCredentials?
    let cacheSeconds: Double
    private let serviceToken = Mutex<(token: String, expires: Date)?>(nil)
    private let cache = Mutex<[String: (caller: Caller, expires: Date)]>([:])
    static let cacheLimit = 10_000

    package init(url: String, credentials: ServiceCredentials?, cacheSeconds: Double = 300) {
        self.url = Self.v3Root(url)
        self.credentials = credentials
        self.cacheSeconds = cacheSeconds
    }

    /// The caller `token` stands for, or nil when Keystone says it is not a valid token.
    package func caller(for token: String) async throws -> Caller? {
        let now = Date()
        if let hit = cache.withLock({ $0[token] }), hit.expires > now { return hit.caller }
        var asking = try await serviceTokenValue() ?? token
        var answer = try await validate(token, as: asking)
        if answer == nil, credentials != nil {
            // The service token may have been revoked: get a fresh one and ask once more.
            serviceToken.withLock { $0 = nil }
            asking = try await serviceTokenValue() ?? token
            answer = try await validate(token, as: asking)
        }
        guard let (caller, expires) = answer else { return nil }
        let until = min(expires, now.addingTimeInterval(cacheSeconds))
        cache.withLock { cache in
            if cache.count >= Self.cacheLimit { cache = cache.filter { $0.value.expires > now } }
            if cache.count < Self.cacheLimit { cache[token] = (caller, until) }
        }
        return caller
    }

    /// `GET /v3/auth/tokens`: 200 with the token's scope and roles, 404 (or 401) when invalid.
    private func validate(_ token: String, as asking: String) async throws -> (Caller, Date)? {
        var request = HTTPClientRequest(url: url + "/auth/tokens")
        request.headers.add(name: "X-Auth-Token", value: asking)
        request.headers.add(name: "X-Subject-Token", value: token)
        request.headers.add(name: "Accept", value: "application/json")
        let answer = try await send(request)
        if answer.status == 404 || answer.status == 401 || answer.status == 403 { return nil }
        guard answer.status == 200 else { throw OutboundError(.unreachable, "Keystone answered \(answer.status) validating a token at \(url)") }
        guard let parsed = try? JSONDecoder().decode(TokenBody.self, from: answer.body) else {
            throw OutboundError(.unreachable, "Keystone's token validation answer at \(url) is not a v3 token")
        }
        let token = parsed.token
        let caller = Caller(projectID: token.project?.id, userID: token.user?.id, roles: Set((token.roles ?? []).map(\.name)))
        return (caller, Self.date(token.expiresAt) ?? Date().addingTimeInterval(cacheSeconds))
    }

    /// The service token, fetched with the credentials when missing or about to expire.
    private func serviceTokenValue() async throws -> String? {
        guard let credentials else { return nil }
        if let current = serviceToken.withLock({ $0 }), current.expires > Date().addingTimeInterval(60) { return current.token }
        let auth: [String: Any] = [
            "auth": [
                "identity": [
                    "methods": ["password"],
                    "password": [
                        "user": ["name": credentials.username, "domain": ["name": credentials.userDomain], "password": credentials.password]
                    ],
                ],
                "scope": ["project": ["name": credentials.project, "domain": ["name": credentials.projectDomain]]],
            ]
        ]
        var request = HTTPClientRequest(url: url + "/auth/tokens")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(data: try JSONSerialization.data(withJSONObject: auth)))
        let answer = try await send(request)
        guard answer.status == 201, let token = answer.headers.first(name: "X-Subject-Token") else {
            throw OutboundError(
                .unreachable, "Keystone at \(url) refused the service credentials of user '\(credentials.username)' (status \(answer.status))")
        }
        let expires = (try? JSONDecoder().decode(TokenBody.self, from: answer.body)).flatMap { Self.date($0.token.expiresAt) }
        let value = (token: token, expires: expires ?? Date().addingTimeInterval(cacheSeconds))
        serviceToken.withLock { $0 = value }
        return token
    }

    private func send(_ request: HTTPClientRequest) async throws(OutboundError) -> OutboundResponse {
        try await OutboundHTTP.exchange(request, timeout: 15, limit: 4 << 20, service: "Keystone at \(url)")
    }

    /// The v3 root of a Keystone URL given with or without `/v3` (`http://HOST:5000` and
    /// `http://HOST:5000/v3/` both give `http://HOST:5000/v3`), so every call joins paths alike.
    package static func v3Root(_ url: String) -> String {
        var root = url
        while root.hasSuffix("/") { root.removeLast() }
        return root.hasSuffix("/v3") ? root : root + "/v3"
    }

    /// Keystone's `expires_at`: `2026-12-01T20:00:00.000000Z` (or without fraction).
    static func date(_ text: String?) -> Date? {
        guard let text else { return nil }
        let trimmed = text.replacingOccurrences(of: #"\.\d+"#, with: "", options: .regularExpression)
        return ISO8601DateFormatter().date(from: trimmed)
    }

    struct TokenBody: Decodable {
        struct Token: Decodable {
            struct Named: Decodable {
                let id: String?
                let name: String
            }
            struct Scoped: Decodable { let id: String }
            let expiresAt: String?
            let roles: [Named]?
            let project: Scoped?
            let user: Scoped?
            enum CodingKeys: String, CodingKey {
                case roles, project, user
                case expiresAt = "expires_at"
            }
        }
        let token: Token
    }
}
