import Foundation
import GranaryBench
import GranaryTesting
import Testing

/// The metadata load end to end against a real Granary server on loopback.
@Suite(.consistencyChecked) struct MetadataLoadTests {
    @Test func createsListsPatchesAndDeletes() async throws {
        try await withGranaryServer { port, client in
            var options = MetadataLoadOptions(endpoint: try GlanceEndpoint(url: "http://127.0.0.1:\(port)"), count: 25, concurrency: 3)
            // Pages of 10 make each listing follow `next` three times.
            options.pageLimit = 10
            let report = await MetadataLoad(options).run()
            #expect(report.errors.isEmpty, "\(report.errors)")
            #expect(report.listPages == 3 * 3)
            #expect(report.createsPerSecond > 0 && report.listsPerSecond > 0 && report.patchesPerSecond > 0 && report.deletesPerSecond > 0)
            #expect(try await listedImages(client).isEmpty)

            let object = try #require(try JSONSerialization.jsonObject(with: report.json()) as? [String: Any])
            for key in ["creates_per_s", "lists_per_s", "patches_per_s", "deletes_per_s", "count", "concurrency"] {
                #expect(object[key] is NSNumber, "\(key)")
            }
            for key in ["create_ms", "list_ms", "patch_ms", "delete_ms"] {
                let summary = try #require(object[key] as? [String: Any], "\(key)")
                #expect(Set(summary.keys) == ["p50", "p90", "p99", "max"])
                #expect(summary.values.allSatisfy { $0 is NSNumber })
            }
            #expect(object["errors"] as? [String: Any] != nil)
        }
    }
}
