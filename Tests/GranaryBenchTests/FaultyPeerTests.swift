import Foundation
import GranaryBench
import GranaryCodec
import Hummingbird
import HummingbirdTesting
import NIOCore
import Synchronization
import Testing

/// A Glance-like peer on loopback that gets one thing wrong on purpose: it stores and serves
/// uploads like Glance, but reports a wrong `os_hash_value` or serves corrupted bytes. The load
/// must count each such image as error `checksum`.
@Suite struct FaultyPeerTests {
    enum Fault: Sendable {
        case wrongHashValue, corruptDownload, refuseUpload
        /// Not faults: os_hash_algo sha384 (not precomputed, so checked after the timed run), right and wrong.
        case sha384, wrongSHA384

        var algorithm: DigestAlgorithm { self == .sha384 || self == .wrongSHA384 ? .sha384 : .sha512 }
    }

    struct PeerImage: Sendable {
        var data: [UInt8] = []
        var md5: String?
        var osHash: String?
    }

    func withFaultyPeer(_ fault: Fault, _ test: @Sendable (_ port: Int) async throws -> Void) async throws {
        let images = Mutex<[String: PeerImage]>([:])
        let router = Router()
        router.post("/v2/images") { _, _ -> Response in
            let id = UUID().uuidString.lowercased()
            images.withLock { $0[id] = PeerImage() }
            return json(#"{"id":"\#(id)","status":"queued","checksum":null,"os_hash_algo":null,"os_hash_value":null}"#, .created)
        }
        router.put("/v2/images/:id/file") { request, context -> HTTPResponse.Status in
            let id = try context.parameters.require("id")
            // Like a store over quota: refused at once, the body left unread.
            if fault == .refuseUpload { return .contentTooLarge }
            let md5 = StreamingDigest(.md5)
            let osHash = StreamingDigest(fault.algorithm)
            var data: [UInt8] = []
            for try await buffer in request.body {
                buffer.withUnsafeReadableBytes {
                    md5.update($0)
                    osHash.update($0)
                }
                data += buffer.readableBytesView
            }
            var hash = osHash.finalize().hex
            if fault == .wrongHashValue || fault == .wrongSHA384 { hash = String(repeating: "0", count: hash.count) }
            if fault == .corruptDownload { data[data.count / 2] ^= 1 }
            let image = PeerImage(data: data, md5: md5.finalize().hex, osHash: hash)
            images.withLock { $0[id] = image }
            return .noContent
        }
        router.get("/v2/images/:id") { _, context -> Response in
            let id = try context.parameters.require("id")
            guard let image = images.withLock({ $0[id] }) else { throw HTTPError(.notFound) }
            let md5 = image.md5.map { "\"\($0)\"" } ?? "null"
            let osHash = image.osHash.map { "\"\($0)\"" } ?? "null"
            return json(
                #"{"id":"\#(id)","status":"active","size":\#(image.data.count),"checksum":\#(md5),"os_hash_algo":"\#(fault.algorithm)","os_hash_value":\#(osHash)}"#,
                .ok)
        }
        router.get("/v2/images/:id/file") { _, context -> Response in
            let id = try context.parameters.require("id")
            guard let image = images.withLock({ $0[id] }) else { throw HTTPError(.notFound) }
            return Response(status: .ok, headers: [.contentType: "application/octet-stream"], body: .init(byteBuffer: ByteBuffer(bytes: image.data)))
        }
        router.delete("/v2/images/:id") { _, context -> HTTPResponse.Status in
            let id = try context.parameters.require("id")
            return images.withLock { $0.removeValue(forKey: id) } == nil ? .notFound : .noContent
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in
            guard let port = client.port else { throw CancellationError() }
            try await test(port)
            // Every image was deleted through the API.
            #expect(images.withLock { $0.isEmpty })
        }
    }

    func run(port: Int, verifyDownload: Bool) throws -> UploadLoad {
        var options = UploadLoadOptions(endpoint: try GlanceEndpoint(url: "http://127.0.0.1:\(port)"), concurrency: 2, size: 1_500_000, count: 3)
        options.verifyDownload = verifyDownload
        return UploadLoad(options)
    }

    @Test func aWrongHashValueIsAChecksumError() async throws {
        try await withFaultyPeer(.wrongHashValue) { port in
            let report = try await run(port: port, verifyDownload: true).run()
            #expect(report.errors == ["checksum": 3])
            #expect(report.imagesUploaded == 0)
            // The upload itself went through: its bytes count, the images do not.
            #expect(report.bytes == 3 * 1_500_000)
        }
    }

    @Test func corruptedDownloadsAreChecksumErrors() async throws {
        try await withFaultyPeer(.corruptDownload) { port in
            // The peer's digests are right (taken before the corruption), the served bytes are not.
            let report = try await run(port: port, verifyDownload: true).run()
            #expect(report.errors == ["checksum": 3])
            #expect(report.imagesUploaded == 3)
        }
    }

    @Test func aDigestNotPrecomputedIsCheckedAfterTheRun() async throws {
        try await withFaultyPeer(.sha384) { port in
            let report = try await run(port: port, verifyDownload: false).run()
            #expect(report.errors.isEmpty, "\(report.errors)")
            #expect(report.imagesUploaded == 3 && report.osHashAlgo == "sha384")
        }
        try await withFaultyPeer(.wrongSHA384) { port in
            let report = try await run(port: port, verifyDownload: false).run()
            #expect(report.errors == ["checksum": 3])
            #expect(report.imagesUploaded == 0)
        }
    }

    @Test func anUploadRefusedBeforeItsBodyIsCountedByItsStatus() async throws {
        try await withFaultyPeer(.refuseUpload) { port in
            let report = try await run(port: port, verifyDownload: false).run()
            #expect(report.errors == ["413": 3])
            #expect(report.bytes == 0 && report.imagesUploaded == 0)
        }
    }
}

private func json(_ text: String, _ status: HTTPResponse.Status) -> Response {
    Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
}
