import GranaryCatalog
import GranaryHTTP
import HTTPTypes
import Hummingbird

/// Routes of Glance's image cache API (2.14) on the catalog's page-cache cache
/// (``ImageCatalog/queueForCache(_:caller:)``): list, queue one image, delete one, clear.
struct CacheController: Sendable {
    let catalog: ImageCatalog

    func add(to table: inout RouteTable) {
        table.add("cache", [(.get, list), (.delete, clear)])
        table.add("cache/:id", [(.put, queue), (.delete, remove)])
    }

    @Sendable func list(_ request: Request, context: APIRequestContext) async throws -> Response {
        let listing = try catalog.cacheListing(caller: context.caller)
        let cached: [[String: Any]] = listing.cached.map { image in
            [
                "image_id": image.imageID, "hits": image.hits, "last_accessed": image.lastAccessed,
                "last_modified": image.lastModified, "size": image.size,
            ]
        }
        return try jsonResponse(["cached_images": cached, "queued_images": listing.queued])
    }

    @Sendable func queue(_ request: Request, context: APIRequestContext) async throws -> Response {
        try catalog.queueForCache(try context.pathParameter("id"), caller: context.caller)
        return Response(status: .accepted)
    }

    @Sendable func remove(_ request: Request, context: APIRequestContext) async throws -> Response {
        try catalog.removeFromCache(try context.pathParameter("id"), caller: context.caller)
        return Response(status: .noContent)
    }

    static let clearTarget = HTTPField.Name.cacheClearTarget

    @Sendable func clear(_ request: Request, context: APIRequestContext) async throws -> Response {
        let header = request.headers[Self.clearTarget] ?? ""
        let target = CacheClearTarget(rawValue: header)
        guard header.isEmpty || target != nil else {
            throw GlanceError(.badRequest, "If provided 'x-image-cache-clear-target' must be 'cache', 'queue' or empty string.")
        }
        try catalog.clearCache(target, caller: context.caller)
        return Response(status: .noContent)
    }
}
