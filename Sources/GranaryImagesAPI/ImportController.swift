import Foundation
import GranaryCatalog
import GranaryFetch
import GranaryHTTP
import GranaryIndex
import GranaryParsing
import HTTPTypes
import Hummingbird
import NIOCore

/// Interoperable import (v2.6): `PUT /stage`, `POST /import`, the image's tasks (v2.12) and
/// the `/info` documents clients read to learn what is offered (Glance: glance/api/v2/router.py; glance/domain/__init__.py and glance/api/v2/image_data.py).
struct ImportController: Sendable {
    let catalog: ImageCatalog
    /// Runs the web-download and glance-download fetches.
    let imports: BackgroundImports

    func add(to table: inout RouteTable) {
        table.add("images/:id/stage", [(.put, stage)])
        table.add("images/:id/import", [(.post, importImage)])
        table.add("images/:id/tasks", [(.get, tasks)])
        table.add("tasks", [(.get, listTasks), (.post, createTask)])
        table.add("tasks/:task", [(.get, showTask)])
        table.add("info/import", [(.get, infoImport)])
        table.add("info/usage", [(.get, { _, _ in try jsonResponse(["usage": [String: Any]()]) })])
        // Without multiple stores Glance answers 404 here; tempest reads that as "no stores".
        for path in ["info/stores", "info/stores/detail"] {
            table.add(path, [(.get, { _, _ in throw GlanceError(.notFound, "Multi backend is not supported at this site.") })])
        }
    }

    @Sendable func stage(_ request: Request, context: APIRequestContext) async throws -> Response {
        let id = try context.pathParameter("id")
        try await catalog.stage(id, caller: context.caller, declaredSize: try ImageBody.declaredSize(request)) { sink in
            try await UploadBody.stream(request, into: sink)
        }
        return Response(status: .noContent)
    }

    @Sendable func importImage(_ request: Request, context: APIRequestContext) async throws -> Response {
        let body = try await requestJSONObject(request)
        let requestID = request.headers[RequestIDMiddleware<APIRequestContext>.headerName]
        let method = try ImageCatalog.importMethod(body, enabled: catalog.settings.importMethods)
        var uri: String?
        if method == .webDownload {
            try catalog.authorizeImport(try context.pathParameter("id"), caller: context.caller)
            let text = try ImageCatalog.webDownloadURI(body)
            do {
                try imports.webFetcher.check(text)
            } catch let refused as OutboundError {
                throw GlanceError(.badRequest, "URI for web-download does not pass filtering: \(text) (\(refused))")
            }
            uri = text
        }
        let token = request.headers[.authToken]
        if method == .glanceDownload && (imports.keystoneURL == nil || token == nil) {
            throw GlanceError(.badRequest, "glance-download needs Keystone auth: the other region's Glance is found in the caller's catalog.")
        }
        let task = try await catalog.importImage(
            try context.pathParameter("id"), ImportRequest(body: body, requestID: requestID), caller: context.caller)
        if task.status == "processing" {
            if let uri {
                imports.startWebDownload(uri, task: task.id, catalog: catalog, logger: context.logger)
            } else if method == .glanceDownload, let token {
                imports.startGlanceDownload(
                    try ImageCatalog.glanceDownloadSource(body), token: token, task: task.id, catalog: catalog, logger: context.logger)
            }
        }
        return Response(status: .accepted)
    }

    @Sendable func tasks(_ request: Request, context: APIRequestContext) async throws -> Response {
        let tasks = try catalog.tasks(of: try context.pathParameter("id"), caller: context.caller)
        return try jsonResponse(["tasks": tasks.map(Self.object)])
    }

    @Sendable func listTasks(_ request: Request, context: APIRequestContext) async throws -> Response {
        let query = try request.queryItems()
        func value(_ name: String) -> String? { query.last { $0.0 == name }?.1 }
        let tasks = try catalog.listTasks(caller: context.caller, type: value("type"), status: value("status"))
        let stubs = tasks.map { task in Self.apiObject(task).filter { !["input", "result", "message"].contains($0.key) } }
        return try jsonResponse(["tasks": stubs, "first": "/v2/tasks", "schema": "/v2/schemas/tasks"])
    }

    @Sendable func showTask(_ request: Request, context: APIRequestContext) async throws -> Response {
        try jsonResponse(Self.apiObject(try catalog.task(try context.pathParameter("task"), caller: context.caller)))
    }

    @Sendable func createTask(_ request: Request, context: APIRequestContext) async throws -> Response {
        let body = try await requestJSONObject(request)
        try catalog.createTask(body, caller: context.caller)
    }

    /// A task as the tasks API shows it (Glance's task view: ISO times, links).
    static func apiObject(_ task: TaskRecord) -> [String: Any] {
        var object: [String: Any] = [
            "id": task.id, "type": task.type, "status": task.status, "owner": task.owner ?? NSNull(), "message": task.message,
            "input": (try? JSONSerialization.jsonObject(with: Data(task.input.utf8))) ?? NSNull(), "result": NSNull(),
            "expires_at": task.expiresAt.map(ImageJSON.timestamp) ?? NSNull(),
            "created_at": ImageJSON.timestamp(task.createdAt), "updated_at": ImageJSON.timestamp(task.updatedAt),
            "image_id": task.imageID, "self": "/v2/tasks/\(task.id)", "schema": "/v2/schemas/task",
        ]
        object["request_id"] = task.requestID
        object["user_id"] = task.userID
        return object
    }

    @Sendable func infoImport(_ request: Request, context: APIRequestContext) async throws -> Response {
        try jsonResponse([
            "import-methods": ["description": "Import methods available.", "type": "array", "value": catalog.settings.importMethods.map(\.rawValue)]
        ])
    }

    /// A task as Glance's image-tasks call shows it: the raw row, times like
    /// `2020-12-18T05:20:38.000000`, `input` as an object.
    static func object(_ task: TaskRecord) -> [String: Any] {
        func time(_ seconds: Int?) -> Any {
            guard let seconds else { return NSNull() }
            return String(ImageJSON.timestamp(seconds).dropLast()) + ".000000"
        }
        let input = (try? JSONSerialization.jsonObject(with: Data(task.input.utf8))) ?? NSNull()
        return [
            "id": task.id, "type": task.type, "status": task.status, "owner": task.owner ?? NSNull(),
            "expires_at": time(task.expiresAt), "created_at": time(task.createdAt), "updated_at": time(task.updatedAt),
            "deleted_at": NSNull(), "deleted": false, "image_id": task.imageID, "request_id": task.requestID ?? NSNull(),
            "user_id": task.userID ?? NSNull(), "input": input, "result": NSNull(), "message": task.message,
        ]
    }
}

/// The data body of `PUT /file` and `PUT /stage`.
enum ImageBody {
    /// `x-openstack-image-size`, else `Content-Length` (none for a chunked body); requires
    /// `Content-Type: application/octet-stream` (415 otherwise, as Glance).
    static func declaredSize(_ request: Request) throws -> Int? {
        guard (request.headers[.contentType] ?? "").hasPrefix("application/octet-stream") else {
            throw GlanceError(.unsupportedMediaType, "Unsupported Content-Type: use application/octet-stream.")
        }
        if let text = request.headers[.imageSize] {
            guard let size = DecimalText.integer(text), size >= 0 else {
                throw GlanceError(.badRequest, "x-openstack-image-size must be a byte count, not '\(text)'.")
            }
            return size
        }
        return request.headers[.contentLength].flatMap(Int.init)
    }
}
