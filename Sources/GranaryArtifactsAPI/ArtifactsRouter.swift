import Foundation
package import GranaryCatalog
package import GranaryFetch
package import GranaryHTTP
import HTTPTypes
package import Hummingbird
import NIOCore

/// Builds the artifacts API (Glare v1) router on its own listener: Glare's version document at
/// `/` and `/versions` (300), the shared auth modes and request ids, and the artifact routes.
package func buildArtifactsRouter(catalog: ArtifactCatalog, auth: AuthMode, external: ExternalFetchPolicy) -> Router<APIRequestContext> {
    let router = Router(context: APIRequestContext.self)
    router.add(middleware: RequestIDMiddleware(format: .glare))
    // The versions document answers any method, before negotiation and authentication (glare/api/versions.py).
    let links: [[String: Any]] = [["rel": "describedby", "type": "text/html", "href": "http://docs.openstack.org/"]]
    let document: [String: Any] = [
        "versions": [
            ["version": "1.0", "status": "STABLE", "links": links, "media-type": "application/vnd.openstack.artifacts-1.0"],
            ["version": "1.1", "status": "EXPERIMENTAL", "links": links, "media-type": "application/vnd.openstack.artifacts-1.1"],
        ]
    ]
    let versions = ByteBuffer(bytes: (try? ArtifactJSON.data(document)) ?? Data())
    for path in ["/", "/versions"] {
        for method in [HTTPRequest.Method.get, .head, .post, .put, .patch, .delete, .options] {
            router.on(RouterPath(path), method: method) { _, _ in
                Response(status: .multipleChoices, headers: [.contentType: "application/json"], body: .init(byteBuffer: versions))
            }
        }
    }
    ArtifactsController(catalog: catalog, fetcher: ExternalFetcher(policy: external)).register(
        on: router.group().add(middleware: MicroversionMiddleware()).add(middleware: AuthMiddleware(mode: auth, format: .glare))
            .add(middleware: BodyRejectMiddleware()))
    return router
}
