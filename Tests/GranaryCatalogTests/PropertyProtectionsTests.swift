import Foundation
import GranaryIndex
import GranaryLMDB
import GranaryParsing
import GranaryStore
import GranaryTesting
import Testing

@testable import GranaryCatalog

/// Glance's property protections (roles format): the file's rules, and the catalog enforcing
/// them on create, show, list and patch, on a real LMDB store.
@Suite(.consistencyChecked) struct PropertyProtectionsTests {
    /// Glance's sample rules, plus a read-only and a closed section.
    static let rules = """
        # first match wins
        [^x_owner_.*]
        create = admin,member
        read = admin,member
        update = admin,member
        delete = admin,member

        [^x_readonly_]
        create = admin
        read = @
        update = admin
        delete = !

        [^x_secret]
        create = Admin
        read = admin
        update = admin
        delete = admin

        [^x_.*]
        create = admin,member,_member_
        read = admin,member,_member_
        update = admin,member,_member_
        delete = admin,member,_member_

        [.*]
        create = admin
        read = admin
        update = admin
        delete = admin
        """

    static let member = Caller(projectID: "p1", userID: "u1", roles: ["member", "reader"])
    static let admin = Caller(projectID: "p1", userID: "a1", roles: ["admin"])
    static let reader = Caller(projectID: "p1", userID: "r1", roles: ["reader"])

    @Test func rulesMatchInFileOrderByUnanchoredSearch() throws {
        let protections = try PropertyProtections(parsing: Self.rules, file: "rules.conf")
        #expect(protections.allows(.create, "x_owner_foo", Self.member))
        #expect(!protections.allows(.create, "x_owner_foo", Self.reader))
        #expect(protections.allows(.read, "x_readonly_a", Self.reader))
        #expect(!protections.allows(.update, "x_readonly_a", Self.member))
        #expect(!protections.allows(.delete, "x_readonly_a", Self.admin))
        // Roles compare without case; `[.*]` catches what the earlier sections do not.
        #expect(protections.allows(.create, "x_secret_key", Self.admin))
        #expect(!protections.allows(.read, "x_secret_key", Self.member))
        #expect(protections.allows(.read, "x_other", Self.member))
        #expect(!protections.allows(.create, "kernel_id", Self.member))
        #expect(protections.allows(.create, "kernel_id", Self.admin))
        // An unanchored search: `secret` matches anywhere in the name, a missing key allows nobody.
        let search = try PropertyProtections(parsing: "[secret]\nread = @\n", file: "s.conf")
        #expect(search.allows(.read, "my_secret_value", Self.reader))
        #expect(!search.allows(.update, "my_secret_value", Self.admin))
        #expect(!search.allows(.read, "public_value", Self.admin))
    }

    @Test func badFilesAreRefusedWithTheLine() {
        for (text, expected) in [
            ("create = admin\n", "rules.conf:1: 'create = admin' comes before any [section]"),
            ("[.*]\nwrite = admin\n", "rules.conf:2: unknown operation 'write'"),
            ("[x_(]\nread = @\n", "rules.conf:1: section [x_(] is not a valid regular expression"),
            ("[.*]\njust words\n", "rules.conf:2: expected [regex] or key = roles"),
        ] {
            #expect {
                _ = try PropertyProtections(parsing: text, file: "rules.conf")
            } throws: { error in
                "\(error)".hasPrefix(expected)
            }
        }
        #expect(throws: PropertyProtections.Invalid.self) { _ = try PropertyProtections(contentsOf: "/nonexistent/rules.conf") }
    }

    struct Fixture {
        let path = TemporaryDirectory("granary-protections").path
        let catalog: ImageCatalog

        init() throws {
            var settings = ImagesSettings()
            settings.propertyProtections = try PropertyProtections(parsing: PropertyProtectionsTests.rules, file: "rules.conf")
            catalog = try makeTestCatalog(at: path, settings: settings)
        }

        func patch(_ id: String, _ kind: ImagePatchOperation.Kind, _ key: String, _ value: String? = nil, as caller: Caller) async throws {
            let operation = ImagePatchOperation(kind: kind, path: "/" + key, value: value.map(JSONValue.string))
            _ = try await catalog.update(id, operations: [operation], draft4: false, caller: caller)
        }

        /// The stored properties, as an admin (who may read every one here) sees them.
        func stored(_ id: String) throws -> [String: String] {
            try catalog.store.environment.read { txn in try catalog.index.get(id, in: txn)!.properties }
        }
    }

    static func forbidden(_ key: String) -> (any Error) -> Bool {
        { ($0 as? CatalogError)?.code == .forbidden && "\($0)".contains("Attribute '\(key)' is reserved.") }
    }

    static func conflict(_ error: any Error) -> Bool { (error as? CatalogError)?.code == .conflict }

    @Test func createNeedsTheCreateRoleForEveryProperty() async throws {
        let f = try Fixture()
        await #expect(
            performing: {
                _ = try await f.catalog.create(["name": .string("a"), "x_secret_key": .string("k")], caller: Self.member)
            }, throws: Self.forbidden("x_secret_key"))
        #expect(try f.catalog.list(ImageQuery(), caller: Self.admin).images.isEmpty)
        let made = try await f.catalog.create(["name": .string("a"), "x_owner_team": .string("t"), "x_note": .string("n")], caller: Self.member)
        #expect(made.properties == ["x_owner_team": "t", "x_note": "n"])
    }

    @Test func unreadablePropertiesAreHiddenAndDoNotExistForTheCaller() async throws {
        let f = try Fixture()
        let id = try await f.catalog.create(
            ["name": .string("a"), "x_secret_key": .string("k"), "x_readonly_tier": .string("gold"), "x_note": .string("n")], caller: Self.admin
        ).id
        #expect(try f.catalog.show(id, caller: Self.member).properties == ["x_readonly_tier": "gold", "x_note": "n"])
        #expect(try f.catalog.list(ImageQuery(), caller: Self.member).images.map(\.properties) == [["x_readonly_tier": "gold", "x_note": "n"]])
        #expect(try f.catalog.show(id, caller: Self.admin).properties.count == 3)
        // Filtering on a property one may not read finds nothing, whatever the value.
        func listed(_ parameters: [String: String], as caller: Caller) throws -> [String] {
            try f.catalog.list(ImageQuery(parameters: parameters.map { ($0.key, $0.value) }), caller: caller).images.map(\.id)
        }
        #expect(try listed(["x_secret_key": "k"], as: Self.admin) == [id])
        #expect(try listed(["x_secret_key": "k"], as: Self.member).isEmpty)
        #expect(try listed(["x_note": "n"], as: Self.member) == [id])
        // To the member x_secret_key does not exist: replace and remove are 409, and its value stays.
        await #expect(performing: { try await f.patch(id, .replace, "x_secret_key", "mine", as: Self.member) }, throws: Self.conflict)
        await #expect(performing: { try await f.patch(id, .remove, "x_secret_key", as: Self.member) }, throws: Self.conflict)
        // Adding it is a create, which the member may not do.
        await #expect(performing: { try await f.patch(id, .add, "x_secret_key", "mine", as: Self.member) }, throws: Self.forbidden("x_secret_key"))
        #expect(try f.stored(id)["x_secret_key"] == "k")
        // A member's update keeps what it cannot see, and the answer shows only what it may read.
        try await f.patch(id, .replace, "x_note", "changed", as: Self.member)
        #expect(try f.stored(id) == ["x_secret_key": "k", "x_readonly_tier": "gold", "x_note": "changed"])
    }

    @Test func patchNeedsUpdateToChangeAndDeleteToRemove() async throws {
        let f = try Fixture()
        let id = try await f.catalog.create(["name": .string("a"), "x_readonly_tier": .string("gold")], caller: Self.admin).id
        await #expect(
            performing: { try await f.patch(id, .replace, "x_readonly_tier", "tin", as: Self.member) }, throws: Self.forbidden("x_readonly_tier"))
        await #expect(performing: { try await f.patch(id, .remove, "x_readonly_tier", as: Self.admin) }, throws: Self.forbidden("x_readonly_tier"))
        try await f.patch(id, .replace, "x_readonly_tier", "silver", as: Self.admin)
        // A new property is a create: `x_owner_*` lets a member, `[.*]` only an admin.
        try await f.patch(id, .add, "x_owner_team", "t", as: Self.member)
        await #expect(performing: { try await f.patch(id, .add, "kernel_id", "k", as: Self.member) }, throws: Self.forbidden("kernel_id"))
        try await f.patch(id, .remove, "x_owner_team", as: Self.member)
        // Base attributes are not properties: a member renames the image whatever the rules say.
        let renamed = ImagePatchOperation(kind: .replace, path: "/name", value: .string("b"))
        #expect(try await f.catalog.update(id, operations: [renamed], draft4: false, caller: Self.member).name == "b")
        #expect(try f.stored(id) == ["x_readonly_tier": "silver"])
    }
}
