import Foundation
import GranaryCodec
import GranaryLMDB
import GranaryParsing
import GranaryStore
import GranaryTesting
import Testing

@testable import GranaryCatalog
@testable import GranaryIndex

/// The artifact domain on a real LMDB store: semver order, uniqueness in the transaction,
/// lifecycle rules, blobs and their references, lists.
@Suite(.consistencyChecked) struct ArtifactTests {
    struct Fixture {
        let path = TemporaryDirectory("granary-artifacts").path
        let catalog: ArtifactCatalog
        static let alice = Caller(projectID: "alice", userID: "a", roles: ["member", "reader"])
        static let bob = Caller(projectID: "bob", userID: "b", roles: ["member", "reader"])
        static let admin = Caller(projectID: "ops", userID: "o", roles: ["admin"])

        init() throws {
            var settings = StoreSettings()
            settings.durableIndex = false
            catalog = try ArtifactCatalog(store: try BlobStore(directory: DataDirectory(path: path, access: .exclusive), settings: settings))
        }

        func create(_ fields: [String: JSONValue], type: String = "sample_artifact", as caller: Caller = alice) async throws -> ArtifactRecord {
            try await catalog.create(type, fields, caller: caller)
        }

        func upload(_ artifact: ArtifactRecord, _ slot: BlobSlot, _ data: [UInt8], as caller: Caller = alice) async throws -> ArtifactRecord {
            try await catalog.upload(
                artifact.typeName, artifact.id, slot, caller: caller, contentType: "application/octet-stream", declaredSize: nil
            ) { sink in
                var offset = 0
                while offset < data.count {
                    try await sink.fill { space in
                        let n = min(space.count, data.count - offset)
                        data.withUnsafeBytes { space.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[offset..<(offset + n)])) }
                        offset += n
                        return n
                    }
                }
            }
        }

        func patch(_ artifact: ArtifactRecord, _ operations: [[String: JSONValue]], as caller: Caller = alice) async throws -> ArtifactRecord {
            try await catalog.update(artifact.typeName, artifact.id, patch: .array(operations.map(JSONValue.object)), caller: caller)
        }

        func refcount(_ blob: String?) throws -> Int {
            guard let key = blob.flatMap(SHA256Key.init(hex:)) else { return 0 }
            return try catalog.store.info(key)?.refcount ?? 0
        }

        func code(_ body: () async throws -> Void) async -> CatalogError.Code? {
            do {
                try await body()
                return nil
            } catch let error as CatalogError {
                return error.code
            } catch {
                return nil
            }
        }
    }

    static func op(_ op: String, _ path: String, _ value: JSONValue? = nil) -> [String: JSONValue] {
        var object: [String: JSONValue] = ["op": .string(op), "path": .string(path)]
        if let value { object["value"] = value }
        return object
    }

    @Test func semanticVersionsParseCoerceAndOrderAsSemverSays() throws {
        #expect(SemanticVersion("1")?.description == "1.0.0")
        #expect(SemanticVersion("1.2")?.description == "1.2.0")
        #expect(SemanticVersion("1.2.3-rc.1+build.5")?.description == "1.2.3-rc.1+build.5")
        for bad in ["", "a.b", "1.2.3.4", "65536.0.0", "1.0.0-", "1.0.0-01", "1..0", "1.0.0+", "-1.0.0"] {
            #expect(SemanticVersion(bad) == nil, "\(bad) is not a version")
        }
        // semver.org §11's example chain, then releases.
        let chain = [
            "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0",
            "1.0.1", "1.2.0", "1.10.0", "2.0.0", "10.0.0",
        ].map { SemanticVersion($0)! }
        for (a, b) in zip(chain, chain.dropFirst()) {
            #expect(a < b, "\(a) < \(b)")
            #expect(a.orderKey.lexicographicallyPrecedes(b.orderKey))
        }
        #expect(chain.shuffled().sorted() == chain)
        let a = SemanticVersion("1.0.0+a")!
        let b = SemanticVersion("1.0.0+b")!
        #expect(a.hasSamePrecedence(as: b) && a != b && !(a < b) && !(b < a))
    }

    @Test func jsonPatchFollowsRFC6902() throws {
        let document = try JSONDecoder().decode(JSONValue.self, from: Data(#"{"a":{"b":[1,2]},"c":"x","d~/e":1}"#.utf8))
        let patch: JSONValue = .array([
            .object(Self.op("add", "/a/b/-", .number(3))), .object(Self.op("add", "/a/b/0", .number(0))),
            .object(Self.op("replace", "/c", .string("y"))), .object(Self.op("remove", "/d~0~1e")),
            .object(Self.op("test", "/c", .string("y"))),
            .object(["op": .string("copy"), "from": .string("/c"), "path": .string("/f")]),
            .object(["op": .string("move"), "from": .string("/a/b"), "path": .string("/g")]),
        ])
        let result = try JSONPatch.apply(patch, to: document)
        let expected = try JSONDecoder().decode(JSONValue.self, from: Data(#"{"a":{},"c":"y","f":"y","g":[0,1,2,3]}"#.utf8))
        #expect(result == expected)
        for bad: JSONValue in [
            .array([.object(Self.op("remove", "/missing"))]), .array([.object(Self.op("test", "/c", .string("no")))]),
            .array([.object(Self.op("frobnicate", "/c"))]), .object([:]), .array([.object(Self.op("add", "no-slash", .null))]),
            .array([.object(["op": .string("move"), "from": .string("/a"), "path": .string("/a/b")])]),
        ] {
            #expect(throws: BadRequest.self) { try JSONPatch.apply(bad, to: document) }
        }
    }

    @Test func concurrentDuplicateCreatesLeaveExactlyOneWinner() async throws {
        let fixture = try Fixture()
        let outcomes = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<24 {
                group.addTask { (try? await fixture.create(["name": .string("app"), "version": .string("1.0")])) != nil }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(outcomes.filter { $0 }.count == 1)
        // Another owner, another build, another version: different keys.
        _ = try await fixture.create(["name": .string("app"), "version": .string("1.0")], as: Fixture.bob)
        _ = try await fixture.create(["name": .string("app"), "version": .string("1.0.0+b1")])
        _ = try await fixture.create(["name": .string("app"), "version": .string("1.0.0+b2")])
        #expect(await fixture.code { _ = try await fixture.create(["name": .string("app"), "version": .string("1.0.0")]) } == .conflict)
        #expect(await fixture.code { _ = try await fixture.create(["name": .string("app"), "version": .string("x.y")]) } == .badRequest)
        #expect(await fixture.code { _ = try await fixture.create(["name": .string("a")], type: "nosuch") } == .notFound)
        #expect(await fixture.code { _ = try await fixture.create(["name": .string("a"), "visibility": .string("public")]) } == .badRequest)
        #expect(await fixture.code { _ = try await fixture.create(["name": .string("a"), "int1": .string("one")]) } == .badRequest)
        #expect(await fixture.code { _ = try await fixture.create(["name": .string("a"), "blob": .string("data")]) } == .badRequest)
        #expect(await fixture.code { _ = try await fixture.create(["name": .string("a"), "unknown": .string("x")]) } == .badRequest)
    }

    @Test func lifecycleRulesHold() async throws {
        let fixture = try Fixture()
        var artifact = try await fixture.create(["name": .string("tpl"), "str1": .string("s")])
        // Required on activate: string_required is unset.
        #expect(await fixture.code { _ = try await fixture.patch(artifact, [Self.op("replace", "/status", .string("active"))]) } == .forbidden)
        artifact = try await fixture.patch(
            artifact, [Self.op("replace", "/string_required", .string("here")), Self.op("replace", "/status", .string("active"))])
        #expect(artifact.status == .active && artifact.activatedAt != nil)
        // Immutable fields are frozen once active; mutable ones are not.
        #expect(await fixture.code { _ = try await fixture.patch(artifact, [Self.op("replace", "/name", .string("other"))]) } == .forbidden)
        #expect(await fixture.code { _ = try await fixture.patch(artifact, [Self.op("replace", "/string_required", .string("x"))]) } == .forbidden)
        // str1 is immutable in Glare's sample_artifact; string_mutable, description and tags are not.
        #expect(await fixture.code { _ = try await fixture.patch(artifact, [Self.op("replace", "/str1", .string("t"))]) } == .forbidden)
        artifact = try await fixture.patch(
            artifact, [Self.op("replace", "/string_mutable", .string("t")), Self.op("add", "/tags/-", .string("blue"))])
        #expect(artifact.fields["string_mutable"] == .string("t") && artifact.tags == ["blue"])
        #expect(await fixture.code { _ = try await fixture.patch(artifact, [Self.op("remove", "/name")]) } == .badRequest)
        #expect(await fixture.code { _ = try await fixture.patch(artifact, [Self.op("replace", "/blob", .string("x"))]) } == .badRequest)
        #expect(await fixture.code { _ = try await fixture.patch(artifact, [Self.op("replace", "/status", .string("drafted"))]) } == .forbidden)
        // Another project neither sees nor changes it; publishing is the admin's.
        #expect(await fixture.code { _ = try fixture.catalog.show("sample_artifact", artifact.id, caller: Fixture.bob) } == .notFound)
        #expect(await fixture.code { _ = try await fixture.patch(artifact, [Self.op("replace", "/visibility", .string("public"))]) } == .forbidden)
        artifact = try await fixture.patch(artifact, [Self.op("replace", "/visibility", .string("public"))], as: Fixture.admin)
        #expect(try fixture.catalog.show("sample_artifact", artifact.id, caller: Fixture.bob).visibility == "public")
        #expect(await fixture.code { _ = try await fixture.patch(artifact, [Self.op("replace", "/string_mutable", .string("u"))]) } == .forbidden)
        // Bob's own tpl 0.0.0 can be published only while the public scope lacks it.
        var bobs = try await fixture.create(["name": .string("tpl"), "string_required": .string("r")], as: Fixture.bob)
        bobs = try await fixture.patch(bobs, [Self.op("replace", "/status", .string("active"))], as: Fixture.bob)
        #expect(
            await fixture.code { _ = try await fixture.patch(bobs, [Self.op("replace", "/visibility", .string("public"))], as: Fixture.admin) }
                == .conflict)
        // Deactivation is the admin's; a deactivated artifact's blobs are the admin's to read.
        artifact = try await fixture.patch(artifact, [Self.op("replace", "/status", .string("deactivated"))], as: Fixture.admin)
        #expect(await fixture.code { try await fixture.catalog.delete("sample_artifact", artifact.id, caller: Fixture.alice) } == .forbidden)
        try await fixture.catalog.delete("sample_artifact", artifact.id, caller: Fixture.admin)
        #expect(await fixture.code { _ = try fixture.catalog.show("sample_artifact", artifact.id, caller: Fixture.admin) } == .notFound)
    }

    @Test func blobsAreReferencedReplacedAndReleased() async throws {
        let fixture = try Fixture()
        var artifact = try await fixture.create(["name": .string("b")])
        let first = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 7) }
        artifact = try await fixture.upload(artifact, BlobSlot(field: "blob", key: nil), first)
        let firstBlob = artifact.blobs["blob"]?.blob
        #expect(artifact.blobs["blob"]?.sha256 == StreamingDigest.hash(.sha256, first).hex)
        #expect(artifact.blobs["blob"]?.md5 == StreamingDigest.hash(.md5, first).hex)
        #expect(artifact.blobs["blob"]?.sha1 == StreamingDigest.hash(.sha1, first).hex)
        #expect(try fixture.refcount(firstBlob) == 1)
        // Re-upload replaces the data and releases the old reference.
        let second = Array(first.reversed())
        artifact = try await fixture.upload(artifact, BlobSlot(field: "blob", key: nil), second)
        #expect(try fixture.refcount(firstBlob) == 0)
        var read: [UInt8] = []
        let (_, reader) = try fixture.catalog.download(
            "sample_artifact", artifact.id, BlobSlot(field: "blob", key: nil), caller: Fixture.alice, range: 10..<20)
        while try reader!.readNext(into: { read.append(contentsOf: $0) }) {}
        #expect(read == Array(second[10..<20]))
        // Limits: small_blob holds 10 bytes; the folder 2000 in all.
        #expect(
            await fixture.code { _ = try await fixture.upload(artifact, BlobSlot(field: "small_blob", key: nil), Array(repeating: 1, count: 11)) }
                == .payloadTooLarge)
        #expect(try fixture.catalog.show("sample_artifact", artifact.id, caller: Fixture.alice).blobs["small_blob"] == nil)
        artifact = try await fixture.upload(artifact, BlobSlot(field: "dict_of_blobs", key: "a/b"), Array(repeating: 2, count: 1500))
        #expect(
            await fixture.code { _ = try await fixture.upload(artifact, BlobSlot(field: "dict_of_blobs", key: "c"), Array(repeating: 3, count: 600)) }
                == .payloadTooLarge)
        artifact = try await fixture.upload(artifact, BlobSlot(field: "dict_of_blobs", key: "c"), Array(repeating: 3, count: 500))
        #expect(artifact.folders["dict_of_blobs"]?.keys.sorted() == ["a/b", "c"])
        #expect(await fixture.code { _ = try await fixture.upload(artifact, BlobSlot(field: "str1", key: nil), [1]) } == .badRequest)
        #expect(await fixture.code { _ = try await fixture.upload(artifact, BlobSlot(field: "dict_of_blobs", key: nil), [1]) } == .badRequest)
        // Deleting one entry, then the artifact, releases everything.
        artifact = try await fixture.catalog.deleteBlob(
            "sample_artifact", artifact.id, BlobSlot(field: "dict_of_blobs", key: "c"), caller: Fixture.alice)
        let held = artifact.storeBlobs
        #expect(held.count == 2)
        #expect(try fixture.catalog.dataHolders().count == 2)
        try await fixture.catalog.delete("sample_artifact", artifact.id, caller: Fixture.alice)
        for blob in held { #expect(try fixture.refcount(blob) == 0) }
        #expect(try fixture.catalog.store.stats().blobs == 0)
        #expect(try await fixture.catalog.store.verify().isEmpty)
    }

    @Test func interruptedUploadsGetTheirCommittedDataBack() async throws {
        let fixture = try Fixture()
        var artifact = try await fixture.create(["name": .string("r")])
        artifact = try await fixture.upload(artifact, BlobSlot(field: "blob", key: nil), [1, 2, 3])
        // What a crash mid-upload leaves: the slots marked saving.
        let id = artifact.id
        _ = try await fixture.catalog.store.coordinator.submit { txn in
            var record = try fixture.catalog.index.get(id, in: txn)!
            let before = record
            record.blobs["blob"]?.status = "saving"
            record.folders["dict_of_blobs"] = ["new": ArtifactBlob(status: "saving")]
            try fixture.catalog.index.put(record, previous: before, in: txn)
        }
        #expect(Set(try await fixture.catalog.recoverInterruptedUploads()) == ["\(id)/blob", "\(id)/dict_of_blobs/new"])
        let recovered = try fixture.catalog.show("sample_artifact", id, caller: Fixture.alice)
        #expect(recovered.blobs["blob"]?.status == "active" && recovered.blobs["blob"]?.blob == artifact.blobs["blob"]?.blob)
        #expect(recovered.folders["dict_of_blobs"] == nil)
    }

    @Test func listsFilterByVersionRangesLatestTagsAndPage() async throws {
        let fixture = try Fixture()
        for version in ["0.9.0", "1.0.0-rc.1", "1.0.0", "1.5.2", "2.0.0"] {
            _ = try await fixture.create([
                "name": .string("svc"), "version": .string(version), "tags": .array([.string(version.hasPrefix("1") ? "one" : "other")]),
            ])
        }
        _ = try await fixture.create(["name": .string("db"), "version": .string("3.1"), "int1": .number(7)])
        _ = try await fixture.create(["name": .string("hidden"), "version": .string("9.9")], as: Fixture.bob)
        func names(_ parameters: [(String, String)]) throws -> [String] {
            try fixture.catalog.list(
                "sample_artifact", try ArtifactQuery(parameters: parameters, type: fixture.catalog.registry.types["sample_artifact"]),
                caller: Fixture.alice
            )
            .artifacts.map { "\($0.name)@\($0.version)" }
        }
        #expect(try names([("name", "svc"), ("version", "gte:1.0"), ("version", "lt:2.0"), ("sort", "version:asc")]) == ["svc@1.0.0", "svc@1.5.2"])
        #expect(try names([("name", "svc"), ("version", "lt:1.0.0"), ("sort", "version:asc")]) == ["svc@0.9.0", "svc@1.0.0-rc.1"])
        #expect(Set(try names([("version", "latest")])) == ["svc@2.0.0", "db@3.1.0"])
        #expect(try names([("tags", "one"), ("sort", "version")]) == ["svc@1.5.2", "svc@1.0.0", "svc@1.0.0-rc.1"])
        #expect(try names([("int1", "gt:5")]) == ["db@3.1.0"])
        #expect(try names([("name", "like:s%"), ("version", "eq:2")]) == ["svc@2.0.0"])
        // Paging with the marker through the default order (newest first), without repeats.
        var seen: [String] = []
        var marker: String?
        repeat {
            var parameters = [("limit", "2")]
            if let marker { parameters.append(("marker", marker)) }
            let page = try fixture.catalog.list("sample_artifact", try ArtifactQuery(parameters: parameters, type: nil), caller: Fixture.alice)
            #expect(page.total == 6)
            seen += page.artifacts.map(\.id)
            marker = page.more ? page.artifacts.last?.id : nil
        } while marker != nil
        #expect(seen.count == 6 && Set(seen).count == 6)
        #expect(throws: BadRequest.self) { try ArtifactQuery(parameters: [("sort", "str1_nope")], type: nil) }
        #expect(throws: BadRequest.self) { try ArtifactQuery(parameters: [("version", "gt:x")], type: nil) }
        #expect(throws: BadRequest.self) { try ArtifactQuery(parameters: [("description", "x")], type: nil) }
    }

    /// The index path of lists (`artifacts.by_value` walks) gives exactly the pages, totals and
    /// `more` flags of a full scan sorted in memory, for random artifacts (many sharing a
    /// created_at second, public and private, patched and deleted), queries, callers and pages.
    @Test func indexListsAgreeWithAScanForRandomQueries() async throws {
        let fixture = try Fixture()
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
        func random(_ n: Int) -> Int {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((seed >> 33) % UInt64(n))
        }
        let names = ["alpha", "beta", "gamma", "delta"]
        let tags = ["t1", "t2", "t3"]
        let owners = [Fixture.alice, Fixture.bob, Fixture.admin]
        var created: [ArtifactRecord] = []
        for i in 0..<120 {
            let type = i % 4 == 3 ? "tosca_templates" : "sample_artifact"
            var version = "\(random(3)).\(random(3)).\(random(2))"
            if random(4) == 0 { version += "-rc.\(random(3))" }
            if random(5) == 0 { version += "+b\(random(2))" }
            let owner = owners[random(3)]
            var fields: [String: JSONValue] = [
                "name": .string(names[random(4)]), "version": .string(version),
                "tags": .array(tags.filter { _ in random(2) == 0 }.map(JSONValue.string)),
            ]
            if type == "sample_artifact" {
                fields["string_required"] = .string("x")
                if random(2) == 0 { fields["int1"] = .number(Double(random(4))) }
                if random(2) == 0 { fields["str1"] = .string(["k", "l", "m"][random(3)]) }
                if random(2) == 0 { fields["list_of_str"] = .array(["k", "l"].filter { _ in random(2) == 0 }.map(JSONValue.string)) }
                if random(2) == 0 { fields["dict_of_int"] = .object(["n": .number(Double(random(3)))]) }
            }
            guard var artifact = try? await fixture.create(fields, type: type, as: owner) else { continue }
            // tosca_templates need their template blob to activate: those stay drafts.
            if random(2) == 0, let active = try? await fixture.patch(artifact, [Self.op("replace", "/status", .string("active"))], as: owner) {
                artifact = active
            }
            if artifact.status == .active, random(2) == 0,
                let published = try? await fixture.patch(artifact, [Self.op("replace", "/visibility", .string("public"))], as: Fixture.admin)
            {
                artifact = published
            }
            if random(6) == 0 {
                try await fixture.catalog.delete(artifact.typeName, artifact.id, caller: Fixture.admin)
            } else {
                created.append(artifact)
            }
        }
        #expect(created.count > 80)
        let sorts = [
            "", "name", "name:asc", "version:asc", "version", "status", "updated_at:asc", "owner", "id:asc", "activated_at", "visibility:asc",
            "name:asc,version:desc", "int1", "str1:asc", "int1:asc,name:desc",
        ]
        let filters: [[(String, String)]] = [
            [], [("name", "beta")], [("name", "eq:gamma")], [("status", "active")], [("tags", "t1")], [("tags", "t1,t2")], [("tags-any", "t2,t3")],
            [("version", "gte:1.0")], [("name", "neq:alpha")], [("owner", "eq:alice")], [("visibility", "public")], [("name", "like:%a")],
            [("name", "alpha"), ("tags", "t3")], [("status", "active"), ("version", "lt:2.0")], [("id", "eq:\(created[0].id)")],
            [("version", "latest")], [("version", "latest"), ("status", "active")], [("version", "latest"), ("tags", "t1")],
            [("name", "or:beta")], [("name", "or:alpha"), ("status", "or:active")], [("name", "or:alpha"), ("status", "or:active"), ("tags", "t2")],
            [("display_type_name", "Sample Artifact")], [("display_type_name", "like:TOSCA%")], [("metadata", "eq:k")],
        ]
        let ownFilters: [[(String, String)]] = [
            [("list_of_str", "k")], [("list_of_str", "in:l,m")], [("dict_of_int.n", "in:1,2")], [("dict_of_int", "eq:n")],
            [("dict_of_int.n", "or:0"), ("str1", "or:m")],
        ]
        let callers = owners + [Caller(projectID: nil, userID: nil, roles: [])]
        for round in 0..<150 {
            let typeName = random(3) == 0 ? "all" : "sample_artifact"
            // A type's own fields are no filters of `all`.
            var parameters = typeName == "all" || random(3) > 0 ? filters[random(filters.count)] : ownFilters[random(ownFilters.count)]
            var sort = sorts[random(sorts.count)]
            // A type's own fields are no sort keys of `all`.
            if typeName == "all" && (sort.contains("int1") || sort.contains("str1")) { sort = "" }
            if !sort.isEmpty { parameters.append(("sort", sort)) }
            parameters.append(("limit", String(1 + random(30))))
            let caller = callers[random(callers.count)]
            let type = typeName == "all" ? nil : fixture.catalog.registry.types[typeName]
            var marker: String?
            var pages = 0
            repeat {
                let query = try ArtifactQuery(parameters: parameters + (marker.map { [("marker", $0)] } ?? []), type: type)
                let indexed = try fixture.catalog.list(typeName, query, caller: caller)
                let scanned = try fixture.catalog.listByScan(typeName, query, caller: caller)
                #expect(
                    indexed.artifacts.map(\.id) == scanned.artifacts.map(\.id), "round \(round) \(typeName) \(parameters) marker \(marker ?? "-")")
                #expect(indexed.total == scanned.total && indexed.more == scanned.more, "round \(round) \(parameters)")
                marker = indexed.more ? indexed.artifacts.last?.id : nil
                pages += 1
            } while marker != nil && pages < 200
            // Long synchronous work would starve the in-process servers of other tests.
            await Task.yield()
        }
    }

    /// The list index holds each type's own sortable fields; opening with types whose sortable
    /// fields changed (an edited types file) rebuilds it, so sorting by a newly sortable field works.
    @Test func changedSortableFieldsRebuildTheListIndex() async throws {
        let fixture = try Fixture()
        var types = ArtifactTypeRegistry.builtin
        let sample = types.firstIndex { $0.name == "sample_artifact" }!
        for j in types[sample].fields.indices where types[sample].fields[j].name == "str1" { types[sample].fields[j].sortable = false }
        let older = try ArtifactCatalog(store: fixture.catalog.store, registry: ArtifactTypeRegistry(types: types))
        for value in ["b", "a", "c"] {
            _ = try await older.create("sample_artifact", ["name": .string("n" + value), "str1": .string(value)], caller: Fixture.alice)
        }
        let current = try ArtifactCatalog(store: fixture.catalog.store)
        let query = try ArtifactQuery(parameters: [("sort", "str1:asc")], type: current.registry.types["sample_artifact"])
        #expect(try current.list("sample_artifact", query, caller: Fixture.alice).artifacts.map(\.name) == ["na", "nb", "nc"])
    }

    @Test func quotasLimitCountAndBytesPerProjectAndType() async throws {
        let fixture = try Fixture()
        let quotas: JSONValue = .array([
            .object([
                "project_id": .string("alice"),
                "project_quotas": .array([
                    .object(["quota_name": .string("max_artifact_number"), "quota_value": .number(3)]),
                    .object(["quota_name": .string("max_artifact_number:heat_templates"), "quota_value": .number(1)]),
                    .object(["quota_name": .string("max_uploaded_data"), "quota_value": .number(1000)]),
                ]),
            ])
        ])
        #expect(await fixture.code { try await fixture.catalog.setQuotas(quotas, caller: Fixture.alice) } == .forbidden)
        try await fixture.catalog.setQuotas(quotas, caller: Fixture.admin)
        let bad: JSONValue = .array([
            .object(["project_id": .string("x"), "project_quotas": .array([.object(["quota_name": .string("max_fun"), "quota_value": .number(1)])])])
        ])
        #expect(await fixture.code { try await fixture.catalog.setQuotas(bad, caller: Fixture.admin) } == .badRequest)
        #expect(try fixture.catalog.projectQuotas(nil, caller: Fixture.alice).1["max_uploaded_data"] == 1000)
        #expect(await fixture.code { _ = try fixture.catalog.projectQuotas("alice", caller: Fixture.bob) } == .forbidden)

        _ = try await fixture.create(["name": .string("h1")], type: "heat_templates")
        #expect(await fixture.code { _ = try await fixture.create(["name": .string("h2")], type: "heat_templates") } == .forbidden)
        var a = try await fixture.create(["name": .string("s1")])
        let b = try await fixture.create(["name": .string("s2")])
        #expect(await fixture.code { _ = try await fixture.create(["name": .string("s3")]) } == .forbidden)
        _ = try await fixture.create(["name": .string("s3")], as: Fixture.bob)  // bob has no quota

        a = try await fixture.upload(a, BlobSlot(field: "blob", key: nil), Array(repeating: 1, count: 600))
        #expect(
            await fixture.code { _ = try await fixture.upload(b, BlobSlot(field: "blob", key: nil), Array(repeating: 2, count: 500)) }
                == .payloadTooLarge)
        // Replacing a blob gives its old bytes back to the quota.
        a = try await fixture.upload(a, BlobSlot(field: "blob", key: nil), Array(repeating: 3, count: 900))
        #expect(try fixture.catalog.store.environment.read { txn in try fixture.catalog.index.usage(owner: "alice", type: nil, in: txn) } == (3, 900))
        try await fixture.catalog.delete("sample_artifact", a.id, caller: Fixture.alice)
        _ = try await fixture.upload(b, BlobSlot(field: "blob", key: nil), Array(repeating: 2, count: 500))
        #expect(
            try fixture.catalog.store.environment.read { txn in try fixture.catalog.index.usage(owner: "alice", type: "sample_artifact", in: txn) }
                == (1, 500))
    }
}
