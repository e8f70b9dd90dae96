import Foundation
import GranaryImagesAPI
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@Suite struct VersionsTests {
    struct Document: Decodable {
        struct Version: Decodable {
            struct Link: Decodable { let rel: String; let href: String }
            let id: String
            let status: String
            let links: [Link]
        }
        let versions: [Version]
    }

    /// Over real loopback HTTP, as clients see it.
    @Test func versionsAnswers200AndRootAnswers300() async throws {
        let app = Application(router: buildImagesRouter(), configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in
            try await client.execute(uri: "/versions", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/json")
                let document = try JSONDecoder().decode(Document.self, from: Data(response.body.readableBytesView))
                let current = document.versions.filter { $0.status == "CURRENT" }
                #expect(current.count == 1)
                #expect(document.versions.allSatisfy { $0.id.hasPrefix("v2.") })
                #expect(document.versions.allSatisfy { $0.links.first?.rel == "self" && $0.links.first?.href.hasSuffix("/v2/") == true })
            }
            try await client.execute(uri: "/", method: .get) { response in
                #expect(response.status == .multipleChoices)
                let document = try JSONDecoder().decode(Document.self, from: Data(response.body.readableBytesView))
                #expect(document.versions.isEmpty == false)
            }
        }
    }

    @Test func everyResponseCarriesARequestID() async throws {
        let app = Application(router: buildImagesRouter(), configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        let header = HTTPField.Name("x-openstack-request-id")!
        try await app.test(.live) { client in
            try await client.execute(uri: "/versions", method: .get) { response in
                let id = try #require(response.headers[header])
                #expect(id.hasPrefix("req-") && id.count == 40)
            }
            try await client.execute(uri: "/versions", method: .get, headers: [header: "abc-123"]) { response in
                #expect(response.headers[header] == "req-abc-123")
            }
            // Errors (an unknown route) carry it too.
            try await client.execute(uri: "/no-such-thing", method: .get) { response in
                #expect(response.status == .notFound)
                #expect(response.headers[header]?.hasPrefix("req-") == true)
            }
        }
    }
}
