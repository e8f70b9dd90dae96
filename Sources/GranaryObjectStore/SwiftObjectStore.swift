import AsyncHTTPClient
import Foundation
import GranaryCodec
package import NIOCore
import NIOFoundationCompat
import NIOHTTP1

/// Packs in OpenStack Swift (native API), spread over 16 containers `BASE_00` … `BASE_15` by a
/// hash of the object name: one container's update rate limits a store (glance_store's
/// multiple-containers lesson). Authenticates by the path of `authURL`: `/auth/v1.0` (or
/// `/v1.0`) is tempauth with user `ACCOUNT:USER`; `/v3` is Keystone, user `PROJECT:USER` in
/// the Default domain, the storage URL taken from the token's catalog (`object-store`, public
/// interface, `region` when given), as glance_store does.
package final class SwiftObjectStore: ObjectRequests {
    package struct Credentials: Sendable {
        package var authURL: String
        package var user: String
        package var key: String
        package var region: String?
        package init(authURL: String, user: String, key: String, region: String? = nil) {
            self.authURL = authURL
            self.user = user
            self.key = key
            self.region = region
        }
    }

    static let containerCount = 16
    let base: String
    let credentials: Credentials
    let exchange: ObjectExchange
    let session = Session()

    /// `timeout` bounds each call, its retries included.
    package init(container: String, credentials: Credentials, timeout: TimeAmount = .seconds(120)) {
        base = container
        self.credentials = credentials
        exchange = ObjectExchange(service: "Swift at \(credentials.authURL)", timeout: timeout)
    }

    /// The token and storage URL in use, and the containers known to exist.
    actor Session {
        var token: (value: String, storageURL: String)?
        var containers: Set<String> = []

        func current() -> (value: String, storageURL: String)? { token }
        func set(_ new: (value: String, storageURL: String)?) { token = new }
        func knows(_ container: String) -> Bool { containers.contains(container) }
        func add(_ container: String) { containers.insert(container) }
    }

    /// The container of `name`: FNV-1a of its bytes, modulo 16.
    func container(of name: String) -> String {
        var hash: UInt32 = 2_166_136_261
        for byte in name.utf8 { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        let index = Int(hash % UInt32(Self.containerCount))  // checked: below 16
        return base + (index < 10 ? "_0\(index)" : "_\(index)")
    }

    // MARK: Authentication

    /// A token, fetched once and renewed when the store answers 401.
    func token(renew: Bool = false) async throws(ObjectStoreError) -> (value: String, storageURL: String) {
        if !renew, let token = await session.current() { return token }
        let token =
            credentials.authURL.hasSuffix("/v3") || credentials.authURL.hasSuffix("/v3/") ? try await keystoneToken() : try await tempauthToken()
        await session.set(token)
        return token
    }

    func tempauthToken() async throws(ObjectStoreError) -> (value: String, storageURL: String) {
        let credentials = credentials
        let answer = try await exchange.perform(limit: 1 << 16) {
            var request = HTTPClientRequest(url: credentials.authURL)
            request.headers.add(name: "X-Auth-User", value: credentials.user)
            request.headers.add(name: "X-Auth-Key", value: credentials.key)
            return request
        }
        guard answer.status == 200, let token = answer.headers.first(name: "X-Auth-Token"),
            let storageURL = answer.headers.first(name: "X-Storage-Url")
        else { throw exchange.unexpected(answer, "tempauth for \(credentials.user)") }
        return (token, storageURL)
    }

    func keystoneToken() async throws(ObjectStoreError) -> (value: String, storageURL: String) {
        let credentials = credentials
        let parts = credentials.user.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2, let project = parts.first, let user = parts.last else {
            throw ObjectStoreError(.refused, "Swift with Keystone: the user is PROJECT:USER, not '\(credentials.user)'")
        }
        let domain: [String: Any] = ["id": "default"]
        let body: [String: Any] = [
            "auth": [
                "identity": ["methods": ["password"], "password": ["user": ["name": user, "domain": domain, "password": credentials.key]]],
                "scope": ["project": ["name": project, "domain": domain]],
            ]
        ]
        let bytes = (try? JSONSerialization.data(withJSONObject: body)) ?? Data()
        let url = credentials.authURL.hasSuffix("/") ? credentials.authURL + "auth/tokens" : credentials.authURL + "/auth/tokens"
        let answer = try await exchange.perform(limit: 1 << 22) {
            var request = HTTPClientRequest(url: url)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(data: bytes))
            return request
        }
        guard answer.status == 201, let token = answer.headers.first(name: "X-Subject-Token") else {
            throw exchange.unexpected(answer, "Keystone token for \(credentials.user)")
        }
        guard let storageURL = Self.objectStoreEndpoint(in: Data(buffer: answer.body), region: credentials.region) else {
            throw ObjectStoreError(.refused, "Keystone at \(credentials.authURL) lists no public object-store endpoint for \(project)")
        }
        return (token, storageURL)
    }

    /// The public `object-store` endpoint of a token's catalog (of `region`, when given).
    static func objectStoreEndpoint(in body: Data, region: String?) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any], let token = object["token"] as? [String: Any],
            let catalog = token["catalog"] as? [[String: Any]]
        else { return nil }
        for service in catalog where service["type"] as? String == "object-store" {
            for endpoint in service["endpoints"] as? [[String: Any]] ?? [] where endpoint["interface"] as? String == "public" {
                if let region, endpoint["region_id"] as? String != region && endpoint["region"] as? String != region { continue }
                if let url = endpoint["url"] as? String { return url }
            }
        }
        return nil
    }

    /// `method` on `path` (below the storage URL), with the token; a 401 renews it once.
    func call(
        _ method: HTTPMethod, _ path: String, headers: [(String, String)] = [], body: ObjectBody? = nil, limit: Int = 1 << 16
    ) async throws(ObjectStoreError) -> ObjectAnswer {
        var renewed = false
        while true {
            let token = try await token(renew: renewed)
            let answer = try await exchange.perform(limit: limit) {
                var request = HTTPClientRequest(url: token.storageURL + "/" + path)
                request.method = method
                request.headers.add(name: "X-Auth-Token", value: token.value)
                for (name, value) in headers { request.headers.add(name: name, value: value) }
                if let body { request.body = body.request }
                return request
            }
            if answer.status != 401 || renewed { return answer }
            renewed = true
        }
    }

    static func escape(_ name: String) -> String { name.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(["/"])) ?? name }

    // MARK: Objects

    func object(_ method: HTTPMethod, _ name: String, headers: [(String, String)], body: ObjectBody?, limit: Int) async throws(ObjectStoreError)
        -> ObjectAnswer
    {
        try await call(method, container(of: name) + "/" + Self.escape(name), headers: headers, body: body, limit: limit)
    }

    package func put(_ name: String, body: ObjectBody, md5: [UInt8]) async throws(ObjectStoreError) {
        let container = container(of: name)
        if !(await session.knows(container)) {
            let made = try await call(.PUT, container)
            guard made.status == 201 || made.status == 202 else { throw exchange.unexpected(made, "creating container \(container)") }
            await session.add(container)
        }
        // Swift checks the body against the ETag sent, and answers 422 when they differ.
        try await putOnce(name, body: body, md5: md5, headers: [("ETag", Hex.encode(md5))], created: 201) { $0.status == 422 }
    }

    package func list(prefix: String) async throws(ObjectStoreError) -> [ObjectInfo] {
        var all: [ObjectInfo] = []
        for index in 0..<Self.containerCount {
            let container = base + (index < 10 ? "_0\(index)" : "_\(index)")
            var marker = ""
            while true {
                let query = "?format=json&limit=10000&prefix=\(Self.escapeQuery(prefix))&marker=\(Self.escapeQuery(marker))"
                let answer = try await call(.GET, container + query, limit: 1 << 26)
                if answer.status == 404 { break }
                guard answer.status == 200 || answer.status == 204 else { throw exchange.unexpected(answer, "listing \(container)") }
                let rows = (try? JSONSerialization.jsonObject(with: Data(buffer: answer.body)) as? [[String: Any]]) ?? []
                let page = rows.compactMap { row -> ObjectInfo? in
                    guard let name = row["name"] as? String, let bytes = row["bytes"] as? Int else { return nil }
                    return ObjectInfo(name: name, size: bytes, lastModified: (row["last_modified"] as? String).flatMap(Self.swiftDate))
                }
                all += page
                guard let last = page.last, rows.count >= 10000 else { break }
                marker = last.name
            }
        }
        return all.sorted { $0.name < $1.name }
    }

    static func escapeQuery(_ text: String) -> String { text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? text }

    /// Swift's listing time (`2026-12-07T20:51:02.123456`, UTC).
    static func swiftDate(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text + "Z") ?? ISO8601DateFormatter().date(from: String(text.prefix(19)) + "Z")
    }
}
