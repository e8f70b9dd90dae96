import Foundation
import GranaryCatalog
import GranaryImagesAPI
import GranaryStore
import Hummingbird
import HummingbirdTesting

/// A real Granary images API on a real store in a temporary directory, on a free loopback
/// port (as ImagesTests starts it); `test` gets the port and a client for checking afterwards.
func withGranaryServer(_ test: @Sendable (_ port: Int, _ client: any TestClientProtocol) async throws -> Void) async throws {
    let path = NSTemporaryDirectory() + "granary-bench-" + UUID().uuidString
    defer { try? FileManager.default.removeItem(atPath: path) }
    let store = try BlobStore(directory: DataDirectory(path: path, access: .exclusive))
    let catalog = try ImageCatalog(store: store)
    let app = Application(router: buildImagesRouter(catalog: catalog), configuration: .init(address: .hostname("127.0.0.1", port: 0)))
    try await app.test(.live) { client in
        guard let port = client.port else { throw CancellationError() }
        try await test(port, client)
    }
}

/// The ids of every image the server lists.
func listedImages(_ client: any TestClientProtocol) async throws -> [[String: Any]] {
    try await client.execute(uri: "/v2/images?limit=1000", method: .get) { response in
        let page = try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any]
        return page?["images"] as? [[String: Any]] ?? []
    }
}
