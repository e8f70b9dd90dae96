import Foundation
import GranaryBench
import GranaryTesting
import Testing

/// The upload load end to end against a real Granary server on loopback.
@Suite(.consistencyChecked) struct UploadLoadTests {
    static let size = 3_000_001

    func options(port: Int, keep: Bool) throws -> UploadLoadOptions {
        var options = UploadLoadOptions(
            endpoint: try GlanceEndpoint(url: "http://127.0.0.1:\(port)", token: "x"), concurrency: 2, size: Self.size, count: 4)
        options.dupRatio = 0.3
        options.verifyDownload = true
        options.keep = keep
        return options
    }

    @Test func uploadsVerifiesDownloadsAndDeletes() async throws {
        try await withGranaryServer { port, client in
            let report = await UploadLoad(try options(port: port, keep: false)).run()
            #expect(report.errors.isEmpty, "\(report.errors)")
            #expect(report.count == 4)
            #expect(report.imagesUploaded == 4)
            #expect(report.bytes == 4 * Self.size)
            #expect(report.mbps > 0)
            #expect(report.osHashAlgo == "sha512")
            #expect(report.uploadMs.p50 > 0 && report.uploadMs.max >= report.uploadMs.p99)
            #expect(report.downloadMs.p50 > 0 && report.downloadMbps > 0)
            #expect(try await listedImages(client).isEmpty)
            try checkJSONShape(report.json())
        }
    }

    @Test func keepLeavesTheImagesActive() async throws {
        try await withGranaryServer { port, client in
            var options = try options(port: port, keep: true)
            options.verifyDownload = false
            options.chunked = true
            let report = await UploadLoad(options).run()
            #expect(report.errors.isEmpty, "\(report.errors)")
            let images = try await listedImages(client)
            #expect(images.count == 4)
            #expect(images.allSatisfy { $0["status"] as? String == "active" && $0["size"] as? Int == Self.size })
            // No downloads: zeros, never null.
            #expect(report.downloadMs == LatencySummary(p50: 0, p90: 0, p99: 0, max: 0))
            try checkJSONShape(report.json())
        }
    }

    @Test func anUnreachableServerCountsConnectionErrors() async throws {
        // Port 1 on loopback: nothing listens there, so every connect is refused.
        var options = UploadLoadOptions(endpoint: try GlanceEndpoint(url: "http://127.0.0.1:1"), concurrency: 2, size: 1000, count: 3)
        options.keep = true
        let report = await UploadLoad(options).run()
        #expect(report.errors == ["connection": 3])
        #expect(report.bytes == 0 && report.imagesUploaded == 0)
    }

    @Test func badURLsAreRefusedWithAClearMessage() {
        for url in ["127.0.0.1:9292", "https://127.0.0.1:9292", "http://:80", "http://host:99999"] {
            #expect(throws: BenchError.self, "\(url)") { try GlanceEndpoint(url: url) }
        }
        #expect(throws: Never.self) { try GlanceEndpoint(url: "http://[::1]:9292/image/") }
    }

    /// The keys `--json` prints are exactly the contract's (extra ones only after them), with
    /// numbers where numbers belong.
    func checkJSONShape(_ data: Data) throws {
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        for key in ["mbps", "images_per_s", "bytes", "count", "concurrency"] {
            #expect(object[key] is NSNumber, "\(key)")
        }
        for key in ["create_ms", "upload_ms", "download_ms"] {
            let summary = try #require(object[key] as? [String: Any], "\(key)")
            #expect(Set(summary.keys) == ["p50", "p90", "p99", "max"])
            #expect(summary.values.allSatisfy { $0 is NSNumber }, "\(key)")
        }
        let errors = try #require(object["errors"] as? [String: Any])
        #expect(errors.values.allSatisfy { $0 is NSNumber })
        let text = String(decoding: data, as: UTF8.self)
        let contract = ["mbps", "images_per_s", "bytes", "count", "concurrency", "create_ms", "upload_ms", "download_ms", "errors"]
        let positions = contract.map { text.range(of: "\"\($0)\":")?.lowerBound }
        #expect(positions.allSatisfy { $0 != nil })
        #expect(positions.compactMap { $0 } == positions.compactMap { $0 }.sorted(), "keys in the documented order")
    }
}
