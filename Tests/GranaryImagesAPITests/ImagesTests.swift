import Foundation
import GranaryCatalog
import GranaryCodec
import GranaryImagesAPI
import GranaryStore
import GranaryTesting
import HTTPTypes
import NIOCore
import Testing

/// The images API over real loopback HTTP on a real store.
@Suite(.consistencyChecked) struct ImagesTests {
    func withServer(_ test: @Sendable (LoopbackClient) async throws -> Void) async throws {
        try await withTestServer { try await test($0.images) }
    }

    func object(_ buffer: ByteBuffer) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(buffer.readableBytesView)) as? [String: Any])
    }

    static let json: HTTPFields = [.contentType: "application/json", .accept: "application/json"]

    @Test func createShowUploadDownloadDelete() async throws {
        try await withServer { client in
            let id = "b2173dd3-7ad6-4362-baa6-a68bce3565cb"
            let body = #"{"id":"\#(id)","name":"cirros","disk_format":"raw","container_format":"bare","os_distro":"cirros","tags":["a","b"]}"#
            try await client.execute(uri: "/v2/images", method: .post, headers: Self.json, body: ByteBuffer(string: body)) { response in
                #expect(response.status == .created)
                #expect(response.headers[.location]?.hasSuffix("/v2/images/\(id)") == true)
                let image = try object(response.body)
                #expect(image["status"] as? String == "queued")
                #expect(image["visibility"] as? String == "shared")
                #expect(image["os_distro"] as? String == "cirros")
                #expect(image["size"] is NSNull)
                #expect(image["owner"] is NSNull)
                #expect((image["tags"] as? [String])?.sorted() == ["a", "b"])
                #expect(image["self"] as? String == "/v2/images/\(id)")
            }
            // Duplicate id: 409.
            try await client.execute(uri: "/v2/images", method: .post, headers: Self.json, body: ByteBuffer(string: body)) { response in
                #expect(response.status == .conflict)
            }
            // No data yet: 204.
            try await client.execute(uri: "/v2/images/\(id)/file", method: .get) { response in #expect(response.status == .noContent) }

            let data = randomBytes(3_000_000, seed: 1)
            try await client.execute(
                uri: "/v2/images/\(id)/file", method: .put, headers: [.contentType: "application/octet-stream"], body: ByteBuffer(bytes: data)
            ) { response in #expect(response.status == .noContent) }
            // A second upload: 409.
            try await client.execute(
                uri: "/v2/images/\(id)/file", method: .put, headers: [.contentType: "application/octet-stream"], body: ByteBuffer(bytes: data)
            ) { response in #expect(response.status == .conflict) }

            try await client.execute(uri: "/v2/images/\(id)", method: .get) { response in
                let image = try object(response.body)
                #expect(image["status"] as? String == "active")
                #expect(image["size"] as? Int == data.count)
                #expect(image["checksum"] as? String == StreamingDigestHex.md5(data))
                #expect(image["os_hash_algo"] as? String == "sha512")
                #expect(image["os_hash_value"] as? String == StreamingDigestHex.sha512(data))
            }
            try await client.execute(uri: "/v2/images/\(id)/file", method: .get) { response in
                #expect(response.status == .ok)
                #expect(Array(response.body.readableBytesView) == data)
                #expect(response.headers[HTTPField.Name("Content-MD5")!] == StreamingDigestHex.md5(data))  // hex, as Glance sends it
            }
            try await client.execute(uri: "/v2/images/\(id)/file", method: .get, headers: [.range: "bytes=100-199"]) { response in
                #expect(response.status == .partialContent)
                #expect(response.headers[.contentRange] == "bytes 100-199/\(data.count)")
                #expect(Array(response.body.readableBytesView) == Array(data[100..<200]))
            }
            try await client.execute(uri: "/v2/images/\(id)/file", method: .get, headers: [.range: "bytes=\(data.count)-"]) { response in
                #expect(response.status == .rangeNotSatisfiable)
            }
            try await client.execute(uri: "/v2/images/\(id)", method: .delete) { response in #expect(response.status == .noContent) }
            try await client.execute(uri: "/v2/images/\(id)", method: .get) { response in #expect(response.status == .notFound) }
        }
    }

    @Test func badInputGetsClearErrors() async throws {
        try await withServer { client in
            for (body, status) in [
                ("{", HTTPResponse.Status.badRequest), ("[1]", .badRequest), (#"{"status":"active"}"#, .forbidden),
                (#"{"id":"not-a-uuid"}"#, .badRequest), (#"{"min_disk":-1}"#, .badRequest), (#"{"custom":5}"#, .badRequest),
                (#"{"disk_format":"floppy"}"#, .badRequest), (#"{"os_glance_x":"y"}"#, .forbidden),
            ] {
                try await client.execute(uri: "/v2/images", method: .post, headers: Self.json, body: ByteBuffer(string: body)) { response in
                    #expect(response.status == status, "\(body)")
                    #expect(response.headers[.contentType] == "application/json")
                    let error = try object(response.body)
                    #expect((error["message"] as? String)?.isEmpty == false)
                }
            }
            // Errors for */* are HTML, as glanceclient expects.
            try await client.execute(uri: "/v2/images/00000000-0000-0000-0000-000000000000", method: .get, headers: [.accept: "*/*"]) { response in
                #expect(response.status == .notFound)
                #expect(response.headers[.contentType]?.hasPrefix("text/html") == true)
            }
            // Upload without formats: 400; wrong content type: 415.
            var id = ""
            try await client.execute(uri: "/v2/images", method: .post, headers: Self.json, body: ByteBuffer(string: "{}")) { response in
                id = try object(response.body)["id"] as? String ?? ""
            }
            try await client.execute(
                uri: "/v2/images/\(id)/file", method: .put, headers: [.contentType: "application/octet-stream"], body: ByteBuffer(string: "x")
            ) {
                response in #expect(response.status == .badRequest)
            }
            try await client.execute(uri: "/v2/images/\(id)/file", method: .put, headers: [.contentType: "text/plain"], body: ByteBuffer(string: "x"))
            {
                response in #expect(response.status == .unsupportedMediaType)
            }
        }
    }

    @Test func protectedImagesCannotBeDeletedAndListsPage() async throws {
        try await withServer { client in
            var ids: [String] = []
            for n in 0..<5 {
                let body = #"{"name":"img\#(n)","protected":\#(n == 0)}"#
                try await client.execute(uri: "/v2/images", method: .post, headers: Self.json, body: ByteBuffer(string: body)) { response in
                    ids.append(try object(response.body)["id"] as? String ?? "")
                }
            }
            try await client.execute(uri: "/v2/images/\(ids[0])", method: .delete) { response in #expect(response.status == .forbidden) }
            var seen: [String] = []
            var uri = "/v2/images?limit=2"
            while true {
                var next: String?
                try await client.execute(uri: uri, method: .get) { response in
                    let page = try object(response.body)
                    let images = page["images"] as? [[String: Any]] ?? []
                    seen += images.compactMap { $0["id"] as? String }
                    next = page["next"] as? String
                }
                guard let next else { break }
                uri = next
            }
            #expect(Set(seen) == Set(ids))
            #expect(seen.count == ids.count)
            try await client.execute(uri: "/v2/images?marker=nope", method: .get) { response in #expect(response.status == .badRequest) }
        }
    }
}

enum StreamingDigestHex {
    static func md5(_ data: [UInt8]) -> String { StreamingDigest.hash(.md5, data).hex }
    static func sha512(_ data: [UInt8]) -> String { StreamingDigest.hash(.sha512, data).hex }
}
