import Foundation
package import GranaryIndex
import GranaryLMDB
package import GranaryParsing
package import GranaryStore

/// Glance's metadata-definitions catalog (`/v2/metadefs`): namespaces of property vocabularies
/// that UIs offer when tagging images. Rules as Glance's default policy: anyone may read public
/// namespaces, the owner and admins private ones; only admins change anything.
package final class MetadefCatalog: Sendable {
    let store: BlobStore
    let index: MetadefIndex

    /// The resource types a namespace can be associated with (Glance seeds these).
    package static let builtinResourceTypes = [
        "OS::Cinder::Volume", "OS::Glance::Image", "OS::Glance::Snapshot", "OS::Nova::Aggregate", "OS::Nova::Flavor",
        "OS::Nova::Server", "OS::Trove::Instance",
    ]

    package init(store: BlobStore) throws {
        self.store = store
        self.index = try MetadefIndex(environment: store.environment)
    }

    var now: Int { UnixTime.now() }

    func canSee(_ namespace: MetadefNamespace, _ caller: Caller) -> Bool {
        caller.isAdmin || namespace.visibility == "public" || (namespace.owner != nil && namespace.owner == caller.projectID)
    }

    func requireAdmin(_ caller: Caller) throws {
        guard caller.isAdmin else { throw CatalogError(.forbidden, "You are not authorized to change metadata definitions (admin only).") }
    }

    static func notFound(_ name: String) -> CatalogError {
        CatalogError(.notFound, "Metadata definition namespace=\(name) was not found.")
    }

    // MARK: Namespaces

    /// Every namespace `caller` may see, in name order.
    package func all(caller: Caller) throws -> [MetadefNamespace] {
        try store.environment.read { txn in try index.all(in: txn).filter { canSee($0, caller) } }
    }

    /// One page of the namespaces `caller` may see that match `query`, and the marker of the
    /// next page when this one is full. A marker the caller cannot see is a 404, as in Glance.
    package func list(caller: Caller, query: MetadefNamespaceQuery) throws -> (page: [MetadefNamespace], next: String?) {
        let visible = try all(caller: caller)
        var matching = visible.filter(query.matches).sorted(by: query.precedes)
        if let marker = query.marker {
            guard let markerNamespace = visible.first(where: { $0.namespace == marker }) else { throw Self.notFound(marker) }
            matching.removeAll { !query.precedes(markerNamespace, $0) }
        }
        let page = Array(matching.prefix(query.limit))
        return (page, page.count == query.limit && matching.count > page.count ? page.last?.namespace : nil)
    }

    package func show(_ name: String, caller: Caller) throws -> MetadefNamespace {
        guard let namespace = try store.environment.read({ txn in try index.get(name, in: txn) }), canSee(namespace, caller) else {
            throw Self.notFound(name)
        }
        return namespace
    }

    /// Creates a namespace from `POST /metadefs/namespaces` (with any resource types,
    /// properties, objects and tags in the body).
    package func create(_ body: [String: JSONValue], caller: Caller) async throws -> MetadefNamespace {
        try requireAdmin(caller)
        let created = try Self.namespace(from: body, owner: caller.projectID, now: now)
        return try await store.coordinator.submit { txn in
            guard try self.index.get(created.namespace, in: txn) == nil else {
                throw CatalogError(.conflict, "A metadata definition namespace with name=\(created.namespace) already exists.")
            }
            try self.index.put(created, in: txn)
            return created
        }
    }

    /// A whole namespace from a create body (or a file of Glance's catalog, which has the same
    /// shape): its fields, resource types, properties, objects and tags, each checked.
    static func namespace(from body: [String: JSONValue], owner: String?, now: Int) throws -> MetadefNamespace {
        guard case .string(let name)? = body["namespace"], !name.isEmpty, name.count <= 80 else {
            throw CatalogError(.badRequest, "'namespace' is required: a name of 1 to 80 characters.")
        }
        var namespace = MetadefNamespace(namespace: name, visibility: "private", protected: false, owner: owner, now: now)
        try apply(body, to: &namespace)
        for association in try items(body["resource_type_associations"], "resource_type_associations") {
            namespace.resourceTypes.append(try self.association(association, now: now))
        }
        if case .object(let properties)? = body["properties"] {
            for (key, value) in properties { namespace.properties[key] = try property(value, name: key) }
        }
        for object in try items(body["objects"], "objects") {
            let parsed = try self.object(object, now: now)
            namespace.objects[parsed.name] = parsed
        }
        for tag in try items(body["tags"], "tags") {
            let name = try tagName(tag)
            namespace.tags[name] = MetadefTag(name: name, now: now)
        }
        return namespace
    }

    /// `PUT /metadefs/namespaces/{ns}`: new name, display name, description, visibility, protection.
    package func update(_ name: String, _ body: [String: JSONValue], caller: Caller) async throws -> MetadefNamespace {
        try requireAdmin(caller)
        let now = self.now
        return try await store.coordinator.submit { txn in
            guard var namespace = try self.index.get(name, in: txn) else { throw Self.notFound(name) }
            try Self.apply(body, to: &namespace)
            if case .string(let renamed)? = body["namespace"], renamed != name {
                guard !renamed.isEmpty, renamed.count <= 80 else { throw CatalogError(.badRequest, "'namespace' must be 1 to 80 characters.") }
                guard try self.index.get(renamed, in: txn) == nil else {
                    throw CatalogError(.conflict, "A metadata definition namespace with name=\(renamed) already exists.")
                }
                try self.index.delete(name, in: txn)
                namespace.namespace = renamed
            }
            namespace.updatedAt = now
            try self.index.put(namespace, in: txn)
            return namespace
        }
    }

    package func delete(_ name: String, caller: Caller) async throws {
        try requireAdmin(caller)
        try await store.coordinator.submit { txn in
            guard let namespace = try self.index.get(name, in: txn) else { throw Self.notFound(name) }
            if namespace.protected {
                throw CatalogError(.forbidden, "Metadata definition namespace \(name) is protected and cannot be deleted.")
            }
            try self.index.delete(name, in: txn)
        }
    }

    /// Changes one namespace in a write transaction (admin only): `change` edits it in place and
    /// returns what the caller answers with.
    package func modify<R: Sendable>(
        _ name: String, caller: Caller, _ change: @escaping @Sendable (inout MetadefNamespace, Int) throws -> R
    ) async throws -> R {
        try requireAdmin(caller)
        let now = self.now
        return try await store.coordinator.submit { txn in
            guard var namespace = try self.index.get(name, in: txn) else { throw Self.notFound(name) }
            let result = try change(&namespace, now)
            namespace.updatedAt = now
            try self.index.put(namespace, in: txn)
            return result
        }
    }

    // MARK: Parsing request bodies

    static func apply(_ body: [String: JSONValue], to namespace: inout MetadefNamespace) throws {
        if let value = body["display_name"] { namespace.displayName = try optionalString(value, "display_name") }
        if let value = body["description"] { namespace.description = try optionalString(value, "description") }
        if let value = body["visibility"] {
            guard case .string(let visibility) = value, ["public", "private"].contains(visibility) else {
                throw CatalogError(.badRequest, "'visibility' must be public or private.")
            }
            namespace.visibility = visibility
        }
        if let value = body["protected"] {
            guard case .bool(let flag) = value else { throw CatalogError(.badRequest, "'protected' must be a boolean.") }
            namespace.protected = flag
        }
    }

    static func optionalString(_ value: JSONValue, _ field: String) throws -> String? {
        switch value {
        case .null: return nil
        case .string(let text): return text
        default: throw CatalogError(.badRequest, "'\(field)' must be a string.")
        }
    }

    package static func items(_ value: JSONValue?, _ field: String) throws -> [JSONValue] {
        switch value {
        case nil, .null?: return []
        case .array(let items)?: return items
        default: throw CatalogError(.badRequest, "'\(field)' must be a list.")
        }
    }

    package static func association(_ value: JSONValue, now: Int) throws -> MetadefResourceTypeAssociation {
        guard case .object(let body) = value, case .string(let name)? = body["name"], !name.isEmpty else {
            throw CatalogError(.badRequest, "A resource type association needs a 'name'.")
        }
        return MetadefResourceTypeAssociation(
            name: name, prefix: try body["prefix"].flatMap { try optionalString($0, "prefix") },
            propertiesTarget: try body["properties_target"].flatMap { try optionalString($0, "properties_target") }, now: now)
    }

    /// A property definition: an object with at least `title` and `type` (Glance's schema), kept
    /// as sent without its `name` (the name is its key).
    package static func property(_ value: JSONValue, name: String) throws -> JSONValue {
        guard case .object(var body) = value else { throw CatalogError(.badRequest, "Property \(name) must be an object.") }
        guard case .string? = body["title"] else { throw CatalogError(.badRequest, "Property \(name) needs a 'title'.") }
        let types = ["array", "boolean", "integer", "number", "object", "string"]
        guard case .string(let type)? = body["type"], types.contains(type) else {
            throw CatalogError(.badRequest, "Property \(name) needs a 'type', one of \(types.joined(separator: ", ")).")
        }
        body["name"] = nil
        return .object(body)
    }

    package static func object(_ value: JSONValue, now: Int) throws -> MetadefObject {
        guard case .object(let body) = value, case .string(let name)? = body["name"], !name.isEmpty else {
            throw CatalogError(.badRequest, "An object needs a 'name'.")
        }
        var required: [String] = []
        for item in try items(body["required"], "required") {
            guard case .string(let text) = item else { throw CatalogError(.badRequest, "'required' must list property names.") }
            required.append(text)
        }
        var properties: [String: JSONValue] = [:]
        if case .object(let given)? = body["properties"] {
            for (key, definition) in given { properties[key] = try property(definition, name: key) }
        }
        return MetadefObject(
            name: name, description: try body["description"].flatMap { try optionalString($0, "description") }, required: required,
            properties: properties, now: now)
    }

    package static func tagName(_ value: JSONValue) throws -> String {
        guard case .object(let body) = value, case .string(let name)? = body["name"], !name.isEmpty, name.count <= 255 else {
            throw CatalogError(.badRequest, "A tag needs a 'name' of 1 to 255 characters.")
        }
        return name
    }

    /// Throws 404 naming what is missing inside a namespace.
    package static func missing(_ kind: String, _ name: String, in namespace: String) -> CatalogError {
        CatalogError(.notFound, "Metadata definition \(kind)=\(name) not found in namespace=\(namespace).")
    }

    /// Throws 409 for a duplicate inside a namespace.
    package static func duplicate(_ kind: String, _ name: String, in namespace: String) -> CatalogError {
        CatalogError(.conflict, "A metadata definition \(kind) with name=\(name) already exists in namespace=\(namespace).")
    }
}
