import Foundation
import GranaryTesting
import HTTPTypes
import NIOCore

/// The application `granary serve` runs, on free loopback ports; `test` gets the images port
/// and a client for checking afterwards.
func withGranaryServer(_ test: @Sendable (_ port: Int, _ client: LoopbackClient) async throws -> Void) async throws {
    try await withTestServer { server in try await test(server.images.port, server.images) }
}

/// The ids of every image the server lists.
func listedImages(_ client: LoopbackClient) async throws -> [[String: Any]] {
    try await client.execute(uri: "/v2/images?limit=1000", method: .get) { response in
        let page = try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any]
        return page?["images"] as? [[String: Any]] ?? []
    }
}
