import Foundation
import GranaryCodec
import GranaryParsing
import NIOCore
import NIOHTTP1

/// What the Swift and S3 stores share above their own way of addressing and authenticating a
/// request: the meaning of the answers to a write-once PUT, a ranged GET, a HEAD and a DELETE.
protocol ObjectRequests: ObjectStore {
    var exchange: ObjectExchange { get }
    /// `method` on the object `name`, authenticated as the store does it.
    func object(_ method: HTTPMethod, _ name: String, headers: [(String, String)], body: ObjectBody?, limit: Int) async throws(ObjectStoreError)
        -> ObjectAnswer
}

extension ObjectRequests {
    /// A write-once PUT (`If-None-Match: *`) with the store's digest header (`headers`): a
    /// `created` answer must carry `md5` as its ETag (else the object is removed, corrupt); a 412
    /// answered to a retry of these very bytes (same ETag) is success, else the name is taken;
    /// `damaged` recognizes the store's refusal of a body that does not match its digest.
    func putOnce(
        _ name: String, body: ObjectBody, md5: [UInt8], headers: [(String, String)], created: Int, damaged: (ObjectAnswer) -> Bool
    ) async throws(ObjectStoreError) {
        let etag = Hex.encode(md5)
        let answer = try await object(
            .PUT, name, headers: headers + [("If-None-Match", "*"), ("Content-Type", "application/octet-stream")], body: body, limit: 1 << 16)
        if answer.status == created {
            guard answer.etag == etag else {
                try? await delete(name)
                throw ObjectStoreError(.corrupt, "\(exchange.service) stored \(name) with another digest than its md5 \(etag)")
            }
        } else if answer.status == 412 {
            let head = try await object(.HEAD, name, headers: [], body: nil, limit: 1 << 16)
            guard head.status == 200, head.etag == etag else {
                throw ObjectStoreError(.exists, "\(exchange.service) already holds another object \(name)")
            }
        } else if damaged(answer) {
            throw ObjectStoreError(.corrupt, "\(exchange.service) received \(name) damaged (its md5 is not \(etag))")
        } else {
            throw exchange.unexpected(answer, "PUT \(name)")
        }
    }

    package func get(_ name: String, range: Range<Int>?) async throws(ObjectStoreError) -> ByteBuffer {
        let headers = range.map { [("Range", "bytes=\($0.lowerBound)-\($0.upperBound - 1)")] } ?? []
        let answer = try await object(.GET, name, headers: headers, body: nil, limit: range?.count ?? Int.max)
        guard answer.status == 200 || answer.status == 206 else { throw exchange.unexpected(answer, "GET \(name)") }
        if let range, answer.body.readableBytes != range.count {
            throw ObjectStoreError(.corrupt, "\(exchange.service) sent \(answer.body.readableBytes) bytes of \(name) for \(range.count) asked")
        }
        return answer.body
    }

    package func size(of name: String) async throws(ObjectStoreError) -> Int? {
        let answer = try await object(.HEAD, name, headers: [], body: nil, limit: 1 << 16)
        if answer.status == 404 { return nil }
        guard answer.status == 200, let length = answer.headers.first(name: "Content-Length").flatMap(DecimalText.integer) else {
            throw exchange.unexpected(answer, "HEAD \(name)")
        }
        return length
    }

    package func delete(_ name: String) async throws(ObjectStoreError) {
        let answer = try await object(.DELETE, name, headers: [], body: nil, limit: 1 << 16)
        guard answer.status == 204 || answer.status == 200 || answer.status == 404 else { throw exchange.unexpected(answer, "DELETE \(name)") }
    }
}

extension ObjectAnswer {
    /// The ETag, unquoted (S3 quotes it, Swift does not) and in lower case.
    var etag: String? { headers.first(name: "ETag")?.trimmingCharacters(in: .init(charactersIn: "\"")).lowercased() }
}
