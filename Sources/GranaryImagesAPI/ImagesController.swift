import Foundation
import GranaryCatalog
import GranaryCodec
import GranaryHTTP
import GranaryIndex
import GranaryParsing
import GranaryStore
import HTTPTypes
import Hummingbird
import NIOCore
import NIOPosix

/// Routes of `/v2/images` and `/v2/schemas` on the catalog.
struct ImagesController: Sendable {
    let catalog: ImageCatalog

    func add(to table: inout RouteTable) {
        table.add("images", [(.post, create), (.get, list)])
        table.add("images/:id", [(.get, show), (.delete, delete), (.patch, update)])
        table.add("images/:id/file", [(.put, upload), (.get, download)])
        table.add("images/:id/tags/:tag", [(.put, addTag), (.delete, removeTag)])
        table.add("images/:id/members", [(.post, addMember), (.get, listMembers)])
        table.add("images/:id/members/:member", [(.get, showMember), (.put, updateMember), (.delete, removeMember)])
        table.add("images/:id/actions/deactivate", [(.post, { request, context in try await setActive(request, context, false) })])
        table.add("images/:id/actions/reactivate", [(.post, { request, context in try await setActive(request, context, true) })])
        for path in ["schemas/:name", "schemas/metadefs/:name"] {
            table.add(
                path,
                [
                    (
                        .get,
                        { request, context in
                            let name = try context.pathParameter("name")
                            let key = path.hasPrefix("schemas/metadefs/") ? "metadefs/" + name : name
                            guard let schema = Schemas.all[key] else { throw GlanceError(.notFound, "The resource could not be found.") }
                            return Response(
                                status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: schema)))
                        }
                    )
                ])
        }
    }

    @Sendable func create(_ request: Request, context: APIRequestContext) async throws -> Response {
        let image = try await catalog.create(try await requestJSONObject(request), caller: context.caller)
        let location = "http://\(request.head.authority ?? "127.0.0.1:9292")/v2/images/\(image.id)"
        var headers: HTTPFields = [.location: location]
        if !catalog.settings.importMethods.isEmpty {
            headers[.importMethods] = catalog.settings.importMethods.map(\.rawValue).joined(separator: ",")
        }
        return jsonResponse(bytes: ImageJSON.bytes(image), status: .created, headers: headers)
    }

    @Sendable func show(_ request: Request, context: APIRequestContext) async throws -> Response {
        jsonResponse(bytes: ImageJSON.bytes(try catalog.show(try context.pathParameter("id"), caller: context.caller)))
    }

    @Sendable func list(_ request: Request, context: APIRequestContext) async throws -> Response {
        let parameters = try request.queryItems()
        let query = try ImageQuery(parameters: parameters)
        let caller = context.caller
        let page = try await OffLoop.run { try catalog.list(query, caller: caller) }
        var json = JSONWriter(capacity: 900 * page.images.count + 200)
        json.beginObject()
        json.field("first", pageLink("/v2/images", parameters, marker: nil))
        json.key("images")
        json.beginArray()
        for image in page.images { ImageJSON.write(image, to: &json) }
        json.endArray()
        if page.more, let last = page.images.last { json.field("next", pageLink("/v2/images", parameters, marker: last.id)) }
        json.field("schema", "/v2/schemas/images")
        json.endObject()
        return jsonResponse(bytes: json.bytes)
    }

    static let patchV21 = "application/openstack-images-v2.1-json-patch"
    static let patchV20 = "application/openstack-images-v2.0-json-patch"

    /// `PATCH /v2/images/{id}` with either JSON-patch media type (Glance: glance/api/v2/images.py, `RequestDeserializer.update`).
    @Sendable func update(_ request: Request, context: APIRequestContext) async throws -> Response {
        let contentType = request.headers[.contentType] ?? ""
        let draft4 = contentType.hasPrefix(Self.patchV20)
        guard draft4 || contentType.hasPrefix(Self.patchV21) else {
            var error = GlanceError(.unsupportedMediaType, "Unsupported Content-Type \(contentType)")
            error.headers[.acceptPatch] = "\(Self.patchV20), \(Self.patchV21)"
            throw error
        }
        guard case .array(let items) = try await request.json() else {
            throw GlanceError(.badRequest, "Request body must be a JSON array of operation objects.")
        }
        let operations = try items.map { item in try ImagePatchOperation(item, draft4: draft4) }
        let image = try await catalog.update(try context.pathParameter("id"), operations: operations, draft4: draft4, caller: context.caller)
        return jsonResponse(bytes: ImageJSON.bytes(image))
    }

    @Sendable func delete(_ request: Request, context: APIRequestContext) async throws -> Response {
        try await catalog.delete(try context.pathParameter("id"), caller: context.caller)
        return Response(status: .noContent)
    }

    static func memberObject(_ member: MemberRecord) -> [String: Any] {
        [
            "member_id": member.memberID, "image_id": member.imageID, "status": member.status.rawValue,
            "created_at": ImageJSON.timestamp(member.createdAt), "updated_at": ImageJSON.timestamp(member.updatedAt),
            "schema": "/v2/schemas/member",
        ]
    }

    @Sendable func addMember(_ request: Request, context: APIRequestContext) async throws -> Response {
        guard case .string(let member)? = try await requestJSONObject(request)["member"] else {
            throw GlanceError(.badRequest, "Member to be added not specified")
        }
        let record = try await catalog.addMember(try context.pathParameter("id"), member: member, caller: context.caller)
        return try jsonResponse(Self.memberObject(record))
    }

    @Sendable func listMembers(_ request: Request, context: APIRequestContext) async throws -> Response {
        let members = try catalog.listMembers(try context.pathParameter("id"), caller: context.caller)
        return try jsonResponse(["members": members.map(Self.memberObject), "schema": "/v2/schemas/members"])
    }

    @Sendable func showMember(_ request: Request, context: APIRequestContext) async throws -> Response {
        let record = try catalog.getMember(
            try context.pathParameter("id"), member: try context.pathParameter("member"), caller: context.caller)
        return try jsonResponse(Self.memberObject(record))
    }

    @Sendable func updateMember(_ request: Request, context: APIRequestContext) async throws -> Response {
        guard case .string(let status)? = try await requestJSONObject(request)["status"] else {
            throw GlanceError(.badRequest, "Status not specified")
        }
        let record = try await catalog.setMemberStatus(
            try context.pathParameter("id"), member: try context.pathParameter("member"), status: status, caller: context.caller)
        return try jsonResponse(Self.memberObject(record))
    }

    @Sendable func removeMember(_ request: Request, context: APIRequestContext) async throws -> Response {
        try await catalog.removeMember(
            try context.pathParameter("id"), member: try context.pathParameter("member"), caller: context.caller)
        return Response(status: .noContent)
    }

    @Sendable func setActive(_ request: Request, _ context: APIRequestContext, _ active: Bool) async throws -> Response {
        try await catalog.setActive(try context.pathParameter("id"), active, caller: context.caller)
        return Response(status: .noContent)
    }

    @Sendable func addTag(_ request: Request, context: APIRequestContext) async throws -> Response {
        try await catalog.setTag(
            try context.pathParameter("id"), try context.pathParameter("tag"), present: true, caller: context.caller)
        return Response(status: .noContent)
    }

    @Sendable func removeTag(_ request: Request, context: APIRequestContext) async throws -> Response {
        try await catalog.setTag(
            try context.pathParameter("id"), try context.pathParameter("tag"), present: false, caller: context.caller)
        return Response(status: .noContent)
    }

    /// `PUT /file`: streams the body (chunked or with a length) into the store (Glance: glance/domain/__init__.py and glance/api/v2/image_data.py).
    @Sendable func upload(_ request: Request, context: APIRequestContext) async throws -> Response {
        let id = try context.pathParameter("id")
        _ = try await catalog.upload(id, caller: context.caller, declaredSize: try ImageBody.declaredSize(request)) { sink in
            try await UploadBody.stream(request, into: sink)
        }
        return Response(status: .noContent)
    }

    /// `GET /file`: the data with `Content-MD5` (the hex md5 `checksum`, as Glance sends it), a
    /// single `Range` as 206, 204 without data.
    @Sendable func download(_ request: Request, context: APIRequestContext) async throws -> Response {
        let id = try context.pathParameter("id")
        let full = try catalog.download(id, caller: context.caller, range: nil)
        guard full.reader != nil, let size = full.image.size else { return Response(status: .noContent) }
        var headers: HTTPFields = [.contentType: "application/octet-stream"]
        if let md5 = full.image.checksum { headers[.contentMD5] = md5 }
        var status = HTTPResponse.Status.ok
        var reader = full.reader!  // checked: tested non-nil above
        if let range = try DownloadRange.requested(request, size: size) {
            status = .partialContent
            headers[.contentRange] = ByteRangeHeader.contentRange(range, size: size)
            guard let ranged = try catalog.download(id, caller: context.caller, range: range).reader else { return Response(status: .noContent) }
            reader = ranged
        }
        headers[.contentLength] = String(reader.count)
        return Response(status: status, headers: headers, body: BlobResponse.body(reader, channel: context.channel, logger: context.logger))
    }
}
