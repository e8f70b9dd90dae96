import Foundation
import GranaryTesting
import HTTPTypes
import NIOCore
import Testing

@Suite(.consistencyChecked) struct VersionsTests {
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
        try await withTestServer { server in
            let client = server.images
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
        let header = HTTPField.Name("x-openstack-request-id")!
        try await withTestServer { server in
            let client = server.images
            try await client.execute(uri: "/versions", method: .get) { response in
                let id = try #require(response.headers[header])
                #expect(id.hasPrefix("req-") && id.count == 40)
            }
            try await client.execute(uri: "/versions", method: .get, headers: [header: "abc-123"]) { response in
                #expect(response.headers[header] == "req-abc-123")
            }
            // Errors (an unknown route) carry it too.
            try await client.execute(uri: "/v2/no-such-thing", method: .get) { response in
                #expect(response.status == .notFound)
                #expect(response.headers[header]?.hasPrefix("req-") == true)
            }
            // The artifacts listener of the same application, in Glare's error format.
            try await server.artifacts.execute(uri: "/artifacts/no_such_type", method: .get) { response in
                #expect(response.status == .notFound)
                #expect(response.headers[header]?.hasPrefix("req-") == true)
            }
        }
    }
}
