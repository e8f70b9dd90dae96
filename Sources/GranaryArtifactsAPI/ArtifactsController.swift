import Foundation
import GranaryCatalog
import GranaryCodec
import GranaryFetch
import GranaryHTTP
import GranaryIndex
import GranaryParsing
import GranaryStore
import HTTPTypes
import Hummingbird
import NIOCore

/// The Glare v1 routes (reference glare.md §1.2): `/schemas`, `/artifacts/{type}[/{id}[/{blob}[/{key}]]]`.
struct ArtifactsController: Sendable {
    let catalog: ArtifactCatalog
    let fetcher: ExternalFetcher
    static let patchType = "application/json-patch+json"
    static let locationType = "application/vnd+openstack.glare-custom-location+json"

    /// The routes, with Glare's `Allow` for the methods a path does not serve (glare/api/v1/router.py).
    func register(on router: RouterGroup<APIRequestContext>) {
        router.post("admin/verify-external", use: verifyExternal)
        var table = RouteTable()
        table.add("quotas", [(.put, setQuotas), (.get, quotas)])
        table.add("project-quotas", [(.get, projectQuotas)])
        table.add("project-quotas/:project", [(.get, projectQuotas)])
        table.add("schemas", [(.get, schemas)])
        table.add("schemas/:type", [(.get, schema)])
        table.add("artifacts/:type", [(.get, list), (.post, create)])
        table.add("artifacts/:type/:id", [(.get, show), (.patch, update), (.delete, delete)])
        for path in ["artifacts/:type/:id/:blob", "artifacts/:type/:id/:blob/**"] {
            table.add(path, [(.get, download), (.put, upload), (.delete, deleteBlob)])
        }
        table.register(on: router, format: .glare)
    }

    private func json(_ object: Any, status: HTTPResponse.Status = .ok, contentType: String = "application/json") throws -> Response {
        Response(status: status, headers: [.contentType: contentType], body: .init(byteBuffer: ByteBuffer(bytes: try ArtifactJSON.data(object))))
    }

    private func view(_ artifact: ArtifactRecord) -> [String: Any] {
        ArtifactJSON.object(artifact, type: catalog.registry.types[artifact.typeName])
    }

    private func slot(_ context: APIRequestContext) throws -> BlobSlot {
        let key = context.catchAllPath()
        return BlobSlot(field: try context.pathParameter("blob"), key: key.isEmpty ? nil : key)
    }

    /// The body as a JSON object (415 for another content type, as Glare).
    private func jsonBody(_ request: Request, types: [String] = ["application/json"]) async throws -> JSONValue {
        // Glare: no Content-Type at all is a 400, another one a 415.
        guard let contentType = request.headers[.contentType], !contentType.isEmpty else {
            throw GlareError(.badRequest, "Content-Type must be specified.")
        }
        guard types.contains(where: contentType.hasPrefix) else {
            throw GlareError(.unsupportedMediaType, "Content-Type must be \(types.joined(separator: " or ")), not '\(contentType)'.")
        }
        return try await request.json()
    }

    /// `POST /admin/verify-external` (admin): re-fetches every external blob, as the CLI does.
    @Sendable func verifyExternal(_ request: Request, context: APIRequestContext) async throws -> Response {
        guard context.caller.isAdmin else { throw GlareError(.forbidden, "Only administrators verify external locations.") }
        let checks = try await ExternalVerifier.verify(catalog, with: fetcher)
        let lines: [[String: Any]] = checks.map {
            ["artifact": $0.artifact, "type": $0.type, "blob": $0.blob, "url": $0.url, "status": $0.status, "detail": $0.detail]
        }
        return try json(["blobs": lines, "ok": checks.allSatisfy { $0.status == "ok" }])
    }

    static func quotaList(_ values: [String: Int]) -> [[String: Any]] {
        values.sorted { $0.key < $1.key }.map { ["quota_name": $0.key, "quota_value": $0.value] }
    }

    @Sendable func setQuotas(_ request: Request, context: APIRequestContext) async throws -> Response {
        try await catalog.setQuotas(try await jsonBody(request), caller: context.caller)
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: "null")))
    }

    @Sendable func quotas(_ request: Request, context: APIRequestContext) async throws -> Response {
        let (projects, defaults) = try catalog.allQuotas(caller: context.caller)
        return try json([
            "quotas": projects.map { ["project_id": $0.0, "project_quotas": Self.quotaList($0.1)] }, "global_quotas": defaults,
        ])
    }

    @Sendable func projectQuotas(_ request: Request, context: APIRequestContext) async throws -> Response {
        let (project, values) = try catalog.projectQuotas(context.optionalPathParameter("project"), caller: context.caller)
        return try json([["project_id": project, "project_quotas": Self.quotaList(values)]])
    }

    @Sendable func schemas(_ request: Request, context: APIRequestContext) async throws -> Response {
        var schemas = catalog.registry.types.mapValues(ArtifactSchema.schema)
        schemas[ArtifactTypeRegistry.all] = ArtifactSchema.schema(ArtifactTypeRegistry.allType)
        return try json(["schemas": schemas], contentType: "application/schema+json")
    }

    @Sendable func schema(_ request: Request, context: APIRequestContext) async throws -> Response {
        let name = try context.pathParameter("type")
        let type = name == ArtifactTypeRegistry.all ? ArtifactTypeRegistry.allType : try catalog.registry.type(name)
        return try json(["schemas": [type.name: ArtifactSchema.schema(type)]], contentType: "application/schema+json")
    }

    @Sendable func list(_ request: Request, context: APIRequestContext) async throws -> Response {
        let typeName = try context.pathParameter("type")
        let all = typeName == ArtifactTypeRegistry.all
        let type = all ? nil : try catalog.registry.type(typeName)
        let parameters = try request.queryItems()
        let query = try ArtifactQuery(parameters: parameters, type: type)
        let caller = context.caller
        let page = try await OffLoop.run { try catalog.list(typeName, query, caller: caller) }
        func link(_ items: [(String, String)]) -> String {
            var components = URLComponents()
            components.queryItems = items.map { URLQueryItem(name: $0.0, value: $0.1) }
            return "/artifacts/\(typeName)" + (items.isEmpty ? "" : "?" + (components.percentEncodedQuery ?? ""))
        }
        let kept = parameters.filter { $0.0 != "marker" }
        var object: [String: Any] = [
            "artifacts": page.artifacts.map { ArtifactJSON.object($0, type: catalog.registry.types[$0.typeName], allType: all) },
            "type_name": typeName, "first": link(kept), "schema": "/schemas/\(typeName)", "total_count": page.total,
        ]
        if page.more, let last = page.artifacts.last { object["next"] = link(kept + [("marker", last.id)]) }
        return try json(object)
    }

    @Sendable func create(_ request: Request, context: APIRequestContext) async throws -> Response {
        guard case .object(let body) = try await jsonBody(request) else { throw GlareError(.badRequest, "The body must be a JSON object.") }
        let artifact = try await catalog.create(try context.pathParameter("type"), body, caller: context.caller)
        return try json(view(artifact), status: .created)
    }

    @Sendable func show(_ request: Request, context: APIRequestContext) async throws -> Response {
        let artifact = try catalog.show(try context.pathParameter("type"), try context.pathParameter("id"), caller: context.caller)
        return try json(
            ArtifactJSON.object(
                artifact, type: catalog.registry.types[artifact.typeName], allType: context.optionalPathParameter("type") == "all"))
    }

    @Sendable func update(_ request: Request, context: APIRequestContext) async throws -> Response {
        let patch = try await jsonBody(request, types: [Self.patchType, "application/json"])
        let artifact = try await catalog.update(
            try context.pathParameter("type"), try context.pathParameter("id"), patch: patch, caller: context.caller)
        return try json(view(artifact))
    }

    @Sendable func delete(_ request: Request, context: APIRequestContext) async throws -> Response {
        try await catalog.delete(try context.pathParameter("type"), try context.pathParameter("id"), caller: context.caller)
        return Response(status: .noContent)
    }

    /// `PUT …/{blob}[/{key}]`: raw bytes of any content type, streamed into the store.
    @Sendable func upload(_ request: Request, context: APIRequestContext) async throws -> Response {
        guard let contentType = request.headers[.contentType], !contentType.isEmpty else {
            throw GlareError(.badRequest, "Content-Type must be specified.")
        }
        if contentType.hasPrefix(Self.locationType) { return try await setLocation(request, context) }
        let declared = request.headers[.contentLength].flatMap(Int.init)
        let artifact = try await catalog.upload(
            try context.pathParameter("type"), try context.pathParameter("id"), try slot(context), caller: context.caller,
            contentType: contentType, declaredSize: declared
        ) { sink in try await UploadBody.stream(request, into: sink) }
        return try json(view(artifact))
    }

    /// `PUT …/{blob}[/{key}]` with `{"url", "md5"?, "sha1"?, "sha256"?}`: the server fetches the
    /// URL once within the request (``ExternalFetcher``'s rules), records the real size and
    /// digests, and refuses with 400 when a digest the client sent does not match the bytes.
    /// With `artifacts.external.copy` the bytes also go into the store, and the blob is then an
    /// ordinary internal one.
    func setLocation(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        guard case .object(let body) = try await jsonBody(request, types: [Self.locationType]), case .string(let url)? = body["url"] else {
            throw GlareError(.badRequest, "An external location needs {\"url\": \"https://…\"}.")
        }
        let type = try context.pathParameter("type")
        let id = try context.pathParameter("id")
        let slot = try slot(context)
        let cap = try catalog.externalCap(type, id, slot, caller: context.caller)
        func checkClaims(_ fetched: FetchedData) throws {
            for (name, actual) in [("md5", fetched.md5), ("sha1", fetched.sha1), ("sha256", fetched.sha256)] {
                if case .string(let claimed)? = body[name], claimed.lowercased() != actual {
                    throw GlareError(.badRequest, "The \(name) given (\(claimed)) does not match the data at \(url) (\(actual)).")
                }
            }
        }
        do {
            let opened = try await fetcher.open(url, cap: cap)
            guard fetcher.policy.copy else {
                let fetched = try await opened.read()
                try checkClaims(fetched)
                let artifact = try await catalog.recordExternal(
                    type, id, slot, caller: context.caller, url: url, size: fetched.size, md5: fetched.md5, sha1: fetched.sha1,
                    sha256: fetched.sha256, contentType: fetched.contentType)
                return try json(view(artifact))
            }
            // Copied: streamed into the store as it arrives; a digest mismatch fails the upload.
            let artifact = try await catalog.upload(
                type, id, slot, caller: context.caller, contentType: opened.contentType, declaredSize: nil
            ) { sink in
                try checkClaims(try await opened.read { buffer in try await UploadBody.write(buffer, into: sink) })
            }
            return try json(view(artifact))
        } catch let refused as OutboundError where refused.kind != .tooLarge {
            throw GlareError(.badRequest, "External location refused: \(refused)")
        }
    }

    /// `GET …/{blob}[/{key}]`: the bytes, a single `Range` as 206, `Content-MD5` as the hex md5
    /// (as Glare sends it, and python-glareclient checks it) and the sha256 as `Repr-Digest`.
    @Sendable func download(_ request: Request, context: APIRequestContext) async throws -> Response {
        let type = try context.pathParameter("type")
        let id = try context.pathParameter("id")
        let slot = try slot(context)
        var (blob, found) = try catalog.download(type, id, slot, caller: context.caller, range: nil)
        var headers: HTTPFields = [.contentType: blob.contentType ?? "application/octet-stream"]
        guard var reader = found else {
            // External: the client fetches it and checks the digests sent here.
            headers[.location] = blob.url
            headers[.contentType] = nil
            headers[.glareSHA256] = blob.sha256
            return Response(status: .movedPermanently, headers: headers)
        }
        headers[.contentMD5] = blob.md5
        if let sha256 = blob.sha256.flatMap(Hex.decode) {
            headers[.reprDigest] = "sha-256=:\(Data(sha256).base64EncodedString()):"
        }
        headers[.glareSHA1] = blob.sha1
        headers[.glareSHA256] = blob.sha256
        var status = HTTPResponse.Status.ok
        if let size = blob.size, let range = try DownloadRange.requested(request, size: size) {
            (blob, found) = try catalog.download(type, id, slot, caller: context.caller, range: range)
            reader = found ?? reader
            status = .partialContent
            headers[.contentRange] = ByteRangeHeader.contentRange(range, size: size)
        }
        headers[.contentLength] = String(reader.count)
        return Response(status: status, headers: headers, body: BlobResponse.body(reader, channel: context.channel, logger: context.logger))
    }

    @Sendable func deleteBlob(_ request: Request, context: APIRequestContext) async throws -> Response {
        let artifact = try await catalog.deleteBlob(
            try context.pathParameter("type"), try context.pathParameter("id"), try slot(context), caller: context.caller)
        return try json(view(artifact))
    }
}
