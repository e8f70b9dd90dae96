import AsyncHTTPClient
import Foundation
import GranaryParsing
package import NIOCore
import NIOFoundationCompat
import NIOHTTP1

/// Packs in an S3 bucket, path-style (`ENDPOINT/BUCKET/NAME`) at any endpoint and region,
/// requests signed with SigV4. Bodies go as `UNSIGNED-PAYLOAD` with `Content-MD5`, so the
/// server checks every byte without the node hashing a pack twice.
package final class S3ObjectStore: ObjectRequests {
    let endpoint: String
    let host: String
    let bucket: String
    let signer: SigV4
    let exchange: ObjectExchange
    let bucketReady = BucketState()

    actor BucketState {
        var ready = false
        func set() { ready = true }
    }

    /// `endpoint` is `http(s)://HOST[:PORT]`; `timeout` bounds each call, its retries included.
    package init(
        endpoint: String, bucket: String, accessKey: String, secretKey: String, region: String, timeout: TimeAmount = .seconds(120)
    ) throws(ObjectStoreError) {
        guard let host = URLComponents(string: endpoint)?.host else { throw ObjectStoreError(.refused, "S3 endpoint \(endpoint) has no host") }
        let port = URLComponents(string: endpoint)?.port.map { ":\($0)" } ?? ""
        self.endpoint = endpoint
        self.host = host + port
        self.bucket = bucket
        signer = SigV4(accessKey: accessKey, secretKey: secretKey, region: region)
        exchange = ObjectExchange(service: "S3 at \(endpoint)/\(bucket)", timeout: timeout)
    }

    /// The canonical (and request) path of `name` in the bucket.
    func path(_ name: String?) -> String {
        "/" + bucket
            + (name.map { "/" + $0.split(separator: "/", omittingEmptySubsequences: false).map { SigV4.encode(String($0)) }.joined(separator: "/") }
                ?? "")
    }

    func call(
        _ method: HTTPMethod, _ name: String?, query: [(String, String)] = [], headers: [(String, String)] = [], body: ObjectBody? = nil,
        limit: Int = 1 << 16
    ) async throws(ObjectStoreError) -> ObjectAnswer {
        let path = path(name)
        let url = endpoint + path + (query.isEmpty ? "" : "?" + query.map { "\(SigV4.encode($0.0))=\(SigV4.encode($0.1))" }.joined(separator: "&"))
        let (signer, host) = (signer, host)
        return try await exchange.perform(limit: limit) {
            var request = HTTPClientRequest(url: url)
            request.method = method
            let signed = signer.sign(
                method: method.rawValue, host: host, path: path, query: query, headers: headers, payloadHash: SigV4.unsignedPayload, date: Date())
            for (name, value) in headers + signed { request.headers.add(name: name, value: value) }
            if let body { request.body = body.request }
            return request
        }
    }

    func object(_ method: HTTPMethod, _ name: String, headers: [(String, String)], body: ObjectBody?, limit: Int) async throws(ObjectStoreError)
        -> ObjectAnswer
    {
        try await call(method, name, headers: headers, body: body, limit: limit)
    }

    package func put(_ name: String, body: ObjectBody, md5: [UInt8]) async throws(ObjectStoreError) {
        if !(await bucketReady.ready) {
            let made = try await call(.PUT, nil)
            // 409 BucketAlreadyOwnedByYou: there already.
            guard made.status == 200 || made.status == 409 else { throw exchange.unexpected(made, "creating bucket \(bucket)") }
            await bucketReady.set()
        }
        // S3 checks the body against Content-MD5, and answers 400 BadDigest when they differ.
        try await putOnce(name, body: body, md5: md5, headers: [("Content-MD5", Data(md5).base64EncodedString())], created: 200) {
            $0.status == 400 && ($0.text.contains("BadDigest") || $0.text.contains("InvalidDigest"))
        }
    }

    package func list(prefix: String) async throws(ObjectStoreError) -> [ObjectInfo] {
        var all: [ObjectInfo] = []
        var token: String?
        repeat {
            var query = [("list-type", "2"), ("prefix", prefix)]
            if let token { query.append(("continuation-token", token)) }
            let answer = try await call(.GET, nil, query: query, limit: 1 << 26)
            if answer.status == 404 { return [] }
            guard answer.status == 200 else { throw exchange.unexpected(answer, "listing \(bucket)") }
            let xml = answer.text
            for entry in Self.elements("Contents", in: xml) {
                guard let key = Self.elements("Key", in: entry).first, let size = Self.elements("Size", in: entry).first.flatMap(DecimalText.integer)
                else { continue }
                let modified = Self.elements("LastModified", in: entry).first.flatMap { text -> Date? in
                    let formatter = ISO8601DateFormatter()
                    formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
                    return formatter.date(from: text) ?? ISO8601DateFormatter().date(from: text)
                }
                all.append(ObjectInfo(name: Self.unescapeXML(key), size: size, lastModified: modified))
            }
            token =
                Self.elements("IsTruncated", in: xml).first == "true"
                ? Self.elements("NextContinuationToken", in: xml).first.map(Self.unescapeXML) : nil
        } while token != nil
        return all.sorted { $0.name < $1.name }
    }

    /// The texts of every `<tag>…</tag>` in `xml` (S3's listings are flat enough for this).
    static func elements(_ tag: String, in xml: String) -> [String] {
        var found: [String] = []
        var rest = xml[...]
        while let open = rest.range(of: "<\(tag)>"), let close = rest[open.upperBound...].range(of: "</\(tag)>") {
            found.append(String(rest[open.upperBound..<close.lowerBound]))
            rest = rest[close.upperBound...]
        }
        return found
    }

    static func unescapeXML(_ text: String) -> String {
        text.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">").replacingOccurrences(of: "&quot;", with: "\"")
            .replacingOccurrences(of: "&apos;", with: "'").replacingOccurrences(of: "&amp;", with: "&")
    }
}
