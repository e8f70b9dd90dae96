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
    for path in ["/", "/versions"] {
        router.get(RouterPath(path)) { _, _ in
            let document: [String: Any] = [
                "versions": [
                    ["version": "1.0", "status": "STABLE", "media-type": "application/vnd.openstack.artifacts-1.0"],
                    ["version": "1.1", "status": "EXPERIMENTAL", "media-type": "application/vnd.openstack.artifacts-1.1"],
                ]
            ]
            return Response(
                status: .multipleChoices, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(bytes: try ArtifactJSON.data(document))))
        }
    }
    ArtifactsController(catalog: catalog, fetcher: ExternalFetcher(policy: external)).register(
        on: router.group().add(middleware: AuthMiddleware(mode: auth, format: .glare)))
    return router
}
