import Foundation
import NIOCore
import NIOHTTP1

/// The fields of a Glance v2 image the loads look at.
struct ImageFields: Decodable {
    let id: String
    let status: String?
    let size: Int?
    let checksum: String?
    let osHashAlgo: String?
    let osHashValue: String?

    enum CodingKeys: String, CodingKey {
        case id, status, size, checksum
        case osHashAlgo = "os_hash_algo"
        case osHashValue = "os_hash_value"
    }
}

/// Glance v2 image calls (as in Glance's glance/api/v2/router.py), each one exchange on a
/// connection; an unexpected status or body throws a ``BenchError`` saying which call failed.
struct GlanceClient {
    let endpoint: GlanceEndpoint

    private var images: String { endpoint.basePath + "/v2/images" }

    /// `POST /v2/images` of a data-less raw/bare image; returns its id.
    func createImage(name: String, on connection: HTTPConnection) async throws(BenchError) -> String {
        let body = try json(["name": name, "disk_format": "raw", "container_format": "bare"])
        let result = try await connection.exchange(.POST, images, contentType: "application/json", body: body)
        try expect(result, 201...201, "POST \(images)")
        return try decode(ImageFields.self, result, "POST \(images)").id
    }

    /// `PUT /v2/images/{id}/file` streaming the generator's bytes; `Expect` is never sent, so
    /// no server makes the upload wait for a 100 Continue.
    func uploadFile(
        id: String, generator: inout DataGenerator, chunked: Bool, on connection: HTTPConnection, sent: (Int) -> Void
    ) async throws(BenchError) {
        let path = "\(images)/\(id)/file"
        let result = try await connection.upload(
            .PUT, path, contentType: "application/octet-stream", generator: &generator, chunked: chunked, sent: sent)
        try expect(result, 200..<300, "PUT \(path)")
    }

    /// `GET /v2/images/{id}`.
    func showImage(id: String, on connection: HTTPConnection) async throws(BenchError) -> ImageFields {
        let path = "\(images)/\(id)"
        let result = try await connection.exchange(.GET, path)
        try expect(result, 200...200, "GET \(path)")
        return try decode(ImageFields.self, result, "GET \(path)")
    }

    /// `GET /v2/images/{id}/file`, each arriving buffer passed to `consume`; returns the byte count.
    func downloadFile(id: String, on connection: HTTPConnection, consume: (ByteBuffer) -> Void) async throws(BenchError) -> Int {
        let path = "\(images)/\(id)/file"
        let result = try await connection.download(path, consume: consume)
        try expect(result, 200...200, "GET \(path)")
        return result.bodyBytes
    }

    /// `PATCH /v2/images/{id}` adding one property.
    func addProperty(id: String, name: String, value: String, on connection: HTTPConnection) async throws(BenchError) {
        let path = "\(images)/\(id)"
        let body = try json([["op": "add", "path": "/\(name)", "value": value]])
        let result = try await connection.exchange(
            .PATCH, path, contentType: "application/openstack-images-v2.1-json-patch", body: body)
        try expect(result, 200...200, "PATCH \(path)")
    }

    /// One page of `GET /v2/images`: `path` is `nil` for the first page (`?limit=`), else the
    /// `next` link of the previous page. Returns the ids and the next link.
    func listPage(_ path: String?, limit: Int, on connection: HTTPConnection) async throws(BenchError) -> (ids: [String], next: String?) {
        struct Page: Decodable {
            struct Image: Decodable { let id: String }
            let images: [Image]
            let next: String?
        }
        let uri = path.map { endpoint.basePath + $0 } ?? "\(images)?limit=\(limit)"
        let result = try await connection.exchange(.GET, uri)
        try expect(result, 200...200, "GET \(uri)")
        let page = try decode(Page.self, result, "GET \(uri)")
        return (page.images.map(\.id), page.next)
    }

    /// `DELETE /v2/images/{id}`.
    func deleteImage(id: String, on connection: HTTPConnection) async throws(BenchError) {
        let path = "\(images)/\(id)"
        let result = try await connection.exchange(.DELETE, path)
        try expect(result, 200..<300, "DELETE \(path)")
    }

    private func expect(_ result: HTTPResult, _ statuses: some RangeExpression<Int>, _ call: String) throws(BenchError) {
        guard statuses.contains(result.status) else {
            let text = String(buffer: result.body).prefix(300)
            throw BenchError(.status(result.status), "\(call): HTTP \(result.status) \(result.head.status.reasonPhrase) \(text)")
        }
    }

    private func decode<T: Decodable>(_ type: T.Type, _ result: HTTPResult, _ call: String) throws(BenchError) -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(result.body.readableBytesView))
        } catch {
            throw BenchError(.protocolViolation, "\(call): the response is not the Glance v2 JSON expected (\(error))")
        }
    }

    private func json(_ value: some Encodable) throws(BenchError) -> ByteBuffer {
        do {
            return ByteBuffer(bytes: try JSONEncoder().encode(value))
        } catch {
            throw BenchError(.protocolViolation, "cannot encode a request body: \(error)")
        }
    }
}
