import Foundation
package import GranaryCatalog
package import GranaryHTTP
package import GranaryStore
import HTTPTypes
package import Hummingbird
import NIOCore

/// Builds the images API (Glance v2) router: version discovery, `/v2/…` under the auth mode, and
/// the admin routes (`/admin/stats`, `/admin/gc`).
package func buildImagesRouter(catalog: ImageCatalog, auth: AuthMode, gc: GCRunner, imports: BackgroundImports) -> Router<APIRequestContext> {
    let router = Router(context: APIRequestContext.self)
    let prefixes = ["v2"] + VersionsDocument.servedMinorVersions.map { "v2.\($0)" }
    router.add(middleware: RequestIDMiddleware(format: .glance))
    router.add(middleware: VersionNegotiationMiddleware(served: Set(prefixes + ["", "versions", "admin"])))
    let api = router.group().add(middleware: AuthMiddleware(mode: auth, format: .glance)).add(middleware: RequestShapeMiddleware())
    var table = RouteTable()
    ImagesController(catalog: catalog).add(to: &table)
    ImportController(catalog: catalog, imports: imports).add(to: &table)
    CacheController(catalog: catalog).add(to: &table)
    MetadefsController(catalog: catalog.metadefs).add(to: &table)
    table.register(on: api, prefixes: prefixes, format: .glance)
    AdminController(store: catalog.store, gc: gc).register(on: api)
    // `GET /` answers 300 Multiple Choices (tempest requires it), `/versions` 200 (glanceclient).
    router.get("/") { request, _ in
        try versionsResponse(for: request, status: .multipleChoices)
    }
    router.get("/versions") { request, _ in
        try versionsResponse(for: request, status: .ok)
    }
    return router
}

/// The versions document, with links built from the address the client used.
func versionsResponse(for request: Request, status: HTTPResponse.Status) throws -> Response {
    let host = request.head.authority ?? "127.0.0.1:9292"
    return jsonResponse(bytes: try sortedJSON(VersionsDocument(root: "http://\(host)")), status: status)
}
