import Foundation
import GranaryCatalog
import GranaryHTTP
import GranaryIndex
import GranaryParsing
import HTTPTypes
import Hummingbird
import NIOCore

/// `/v2/metadefs`: namespaces and their resource-type associations, properties, objects and
/// tags (Glance: glance/api/v2/router.py), in Glance's shapes: creates 201, updates 200, deletes 204.
struct MetadefsController: Sendable {
    let catalog: MetadefCatalog

    func add(to table: inout RouteTable) {
        let ns = "metadefs/namespaces/:ns"
        table.add("metadefs/resource_types", [(.get, resourceTypes)])
        table.add("metadefs/namespaces", [(.get, listNamespaces), (.post, createNamespace)])
        table.add(ns, [(.get, showNamespace), (.put, updateNamespace), (.delete, deleteNamespace)])
        table.add(ns + "/resource_types", [(.get, listAssociations), (.post, createAssociation)])
        table.add(ns + "/resource_types/:name", [(.delete, deleteAssociation)])
        table.add(ns + "/properties", [(.get, listProperties), (.post, createProperty), (.delete, { try await deleteAll(.property, $1) })])
        table.add(ns + "/properties/:name", [(.get, showProperty), (.put, updateProperty), (.delete, { try await delete(.property, $1) })])
        table.add(ns + "/objects", [(.get, listObjects), (.post, createObject), (.delete, { try await deleteAll(.object, $1) })])
        table.add(ns + "/objects/:name", [(.get, showObject), (.put, updateObject), (.delete, { try await delete(.object, $1) })])
        table.add(ns + "/tags", [(.get, listTags), (.post, createTags), (.delete, { try await deleteAll(.tag, $1) })])
        table.add(
            ns + "/tags/:name", [(.get, showTag), (.post, createTag), (.put, updateTag), (.delete, { try await delete(.tag, $1) })])
    }

    // MARK: Views

    static func time(_ seconds: Int) -> String { ImageJSON.timestamp(seconds) }

    static func namespaceObject(_ namespace: MetadefNamespace, full: Bool) -> [String: Any] {
        var object: [String: Any] = [
            "namespace": namespace.namespace, "visibility": namespace.visibility, "protected": namespace.protected,
            "created_at": time(namespace.createdAt), "updated_at": time(namespace.updatedAt),
            "self": "/v2/metadefs/namespaces/\(namespace.namespace)", "schema": "/v2/schemas/metadefs/namespace",
        ]
        object["display_name"] = namespace.displayName
        object["description"] = namespace.description
        object["owner"] = namespace.owner
        if !namespace.resourceTypes.isEmpty { object["resource_type_associations"] = namespace.resourceTypes.map(associationObject) }
        if full {
            if !namespace.properties.isEmpty { object["properties"] = namespace.properties.mapValues(\.foundationObject) }
            if !namespace.objects.isEmpty {
                object["objects"] = namespace.objects.values.sorted { $0.name < $1.name }.map { objectObject($0, in: namespace) }
            }
            if !namespace.tags.isEmpty { object["tags"] = namespace.tags.keys.sorted().map { ["name": $0] } }
        }
        return object
    }

    static func associationObject(_ association: MetadefResourceTypeAssociation) -> [String: Any] {
        var object: [String: Any] = ["name": association.name, "created_at": time(association.createdAt), "updated_at": time(association.updatedAt)]
        object["prefix"] = association.prefix
        object["properties_target"] = association.propertiesTarget
        return object
    }

    static func objectObject(_ object: MetadefObject, in namespace: MetadefNamespace) -> [String: Any] {
        var view: [String: Any] = [
            "name": object.name, "required": object.required, "properties": object.properties.mapValues(\.foundationObject),
            "created_at": time(object.createdAt), "updated_at": time(object.updatedAt),
            "self": "/v2/metadefs/namespaces/\(namespace.namespace)/objects/\(object.name)", "schema": "/v2/schemas/metadefs/object",
        ]
        view["description"] = object.description
        return view
    }

    static func propertyObject(_ name: String, _ definition: JSONValue) -> [String: Any] {
        var view = (definition.foundationObject as? [String: Any]) ?? [:]
        view["name"] = name
        return view
    }

    static func tagObject(_ tag: MetadefTag) -> [String: Any] {
        ["name": tag.name, "created_at": time(tag.createdAt), "updated_at": time(tag.updatedAt)]
    }

    // MARK: Namespaces

    @Sendable func resourceTypes(_ request: Request, context: APIRequestContext) async throws -> Response {
        var names = Set(MetadefCatalog.builtinResourceTypes)
        for namespace in try catalog.all(caller: context.caller) {
            names.formUnion(namespace.resourceTypes.map(\.name))
        }
        let now = Self.time(0)
        return try jsonResponse(["resource_types": names.sorted().map { ["name": $0, "created_at": now, "updated_at": now] }])
    }

    @Sendable func listNamespaces(_ request: Request, context: APIRequestContext) async throws -> Response {
        let parameters = try request.queryItems()
        let (page, next) = try catalog.list(caller: context.caller, query: try MetadefNamespaceQuery(parameters: parameters))
        var object: [String: Any] = [
            "namespaces": page.map { Self.namespaceObject($0, full: false) },
            "first": pageLink("/v2/metadefs/namespaces", parameters, marker: nil),
            "schema": "/v2/schemas/metadefs/namespaces",
        ]
        if let next { object["next"] = pageLink("/v2/metadefs/namespaces", parameters, marker: next) }
        return try jsonResponse(object)
    }

    @Sendable func createNamespace(_ request: Request, context: APIRequestContext) async throws -> Response {
        let namespace = try await catalog.create(try await requestJSONObject(request), caller: context.caller)
        return try jsonResponse(Self.namespaceObject(namespace, full: true), status: .created)
    }

    @Sendable func showNamespace(_ request: Request, context: APIRequestContext) async throws -> Response {
        try jsonResponse(Self.namespaceObject(try catalog.show(try context.pathParameter("ns"), caller: context.caller), full: true))
    }

    @Sendable func updateNamespace(_ request: Request, context: APIRequestContext) async throws -> Response {
        let body = try await requestJSONObject(request)
        let namespace = try await catalog.update(try context.pathParameter("ns"), body, caller: context.caller)
        return try jsonResponse(Self.namespaceObject(namespace, full: true))
    }

    @Sendable func deleteNamespace(_ request: Request, context: APIRequestContext) async throws -> Response {
        try await catalog.delete(try context.pathParameter("ns"), caller: context.caller)
        return Response(status: .noContent)
    }

    /// Reads the namespace the caller may see, for the list and show routes inside it.
    private func visible(_ context: APIRequestContext) throws -> MetadefNamespace {
        try catalog.show(try context.pathParameter("ns"), caller: context.caller)
    }

    /// A change inside the namespace of the route.
    private func modify<R: Sendable>(
        _ context: APIRequestContext, _ change: @escaping @Sendable (inout MetadefNamespace, Int) throws -> R
    ) async throws -> R {
        try await catalog.modify(try context.pathParameter("ns"), caller: context.caller, change)
    }

    /// `DELETE …/{properties,objects,tags}/{name}`.
    private func delete(_ section: MetadefNamespace.Section, _ context: APIRequestContext) async throws -> Response {
        let name = try context.pathParameter("name")
        try await modify(context) { namespace, _ in
            guard namespace.remove(name, from: section) else { throw MetadefCatalog.missing(section.rawValue, name, in: namespace.namespace) }
        }
        return Response(status: .noContent)
    }

    /// `DELETE …/{properties,objects,tags}`: all of them.
    private func deleteAll(_ section: MetadefNamespace.Section, _ context: APIRequestContext) async throws -> Response {
        try await modify(context) { namespace, _ in namespace.removeAll(section) }
        return Response(status: .noContent)
    }

    // MARK: Resource type associations

    @Sendable func listAssociations(_ request: Request, context: APIRequestContext) async throws -> Response {
        try jsonResponse(["resource_type_associations": try visible(context).resourceTypes.map(Self.associationObject)])
    }

    @Sendable func createAssociation(_ request: Request, context: APIRequestContext) async throws -> Response {
        let body = JSONValue.object(try await requestJSONObject(request))
        let association = try await modify(context) { namespace, now in
            let association = try MetadefCatalog.association(body, now: now)
            guard !namespace.resourceTypes.contains(where: { $0.name == association.name }) else {
                throw MetadefCatalog.duplicate("resource type association", association.name, in: namespace.namespace)
            }
            namespace.resourceTypes.append(association)
            return association
        }
        return try jsonResponse(Self.associationObject(association), status: .created)
    }

    @Sendable func deleteAssociation(_ request: Request, context: APIRequestContext) async throws -> Response {
        let name = try context.pathParameter("name")
        try await modify(context) { namespace, _ in
            guard let at = namespace.resourceTypes.firstIndex(where: { $0.name == name }) else {
                throw MetadefCatalog.missing("resource type association", name, in: namespace.namespace)
            }
            namespace.resourceTypes.remove(at: at)
        }
        return Response(status: .noContent)
    }

    // MARK: Properties

    @Sendable func listProperties(_ request: Request, context: APIRequestContext) async throws -> Response {
        try jsonResponse(["properties": try visible(context).properties.mapValues(\.foundationObject)])
    }

    @Sendable func showProperty(_ request: Request, context: APIRequestContext) async throws -> Response {
        let name = try context.pathParameter("name")
        let namespace = try visible(context)
        guard let definition = namespace.properties[name] else { throw MetadefCatalog.missing("property", name, in: namespace.namespace) }
        return try jsonResponse(Self.propertyObject(name, definition))
    }

    @Sendable func createProperty(_ request: Request, context: APIRequestContext) async throws -> Response {
        let body = try await requestJSONObject(request)
        guard case .string(let name)? = body["name"], !name.isEmpty else { throw GlanceError(.badRequest, "A property needs a 'name'.") }
        let definition = try MetadefCatalog.property(.object(body), name: name)
        try await modify(context) { namespace, _ in
            guard namespace.properties[name] == nil else { throw MetadefCatalog.duplicate("property", name, in: namespace.namespace) }
            namespace.properties[name] = definition
        }
        return try jsonResponse(Self.propertyObject(name, definition), status: .created)
    }

    @Sendable func updateProperty(_ request: Request, context: APIRequestContext) async throws -> Response {
        let name = try context.pathParameter("name")
        let body = try await requestJSONObject(request)
        var renamed = name
        if case .string(let given)? = body["name"], !given.isEmpty { renamed = given }
        let definition = try MetadefCatalog.property(.object(body), name: renamed)
        let newName = renamed
        try await modify(context) { namespace, _ in
            guard namespace.properties[name] != nil else { throw MetadefCatalog.missing("property", name, in: namespace.namespace) }
            if newName != name && namespace.properties[newName] != nil {
                throw MetadefCatalog.duplicate("property", newName, in: namespace.namespace)
            }
            namespace.properties[name] = nil
            namespace.properties[newName] = definition
        }
        return try jsonResponse(Self.propertyObject(newName, definition))
    }

    // MARK: Objects

    @Sendable func listObjects(_ request: Request, context: APIRequestContext) async throws -> Response {
        let namespace = try visible(context)
        let objects = namespace.objects.values.sorted { $0.name < $1.name }.map { Self.objectObject($0, in: namespace) }
        return try jsonResponse(["objects": objects, "schema": "/v2/schemas/metadefs/objects"])
    }

    @Sendable func showObject(_ request: Request, context: APIRequestContext) async throws -> Response {
        let name = try context.pathParameter("name")
        let namespace = try visible(context)
        guard let object = namespace.objects[name] else { throw MetadefCatalog.missing("object", name, in: namespace.namespace) }
        return try jsonResponse(Self.objectObject(object, in: namespace))
    }

    @Sendable func createObject(_ request: Request, context: APIRequestContext) async throws -> Response {
        let body = JSONValue.object(try await requestJSONObject(request))
        let (object, namespace) = try await modify(context) { namespace, now in
            let object = try MetadefCatalog.object(body, now: now)
            guard namespace.objects[object.name] == nil else { throw MetadefCatalog.duplicate("object", object.name, in: namespace.namespace) }
            namespace.objects[object.name] = object
            return (object, namespace)
        }
        return try jsonResponse(Self.objectObject(object, in: namespace), status: .created)
    }

    @Sendable func updateObject(_ request: Request, context: APIRequestContext) async throws -> Response {
        let name = try context.pathParameter("name")
        let body = JSONValue.object(try await requestJSONObject(request))
        let (object, namespace) = try await modify(context) { namespace, now in
            guard let old = namespace.objects[name] else { throw MetadefCatalog.missing("object", name, in: namespace.namespace) }
            var object = try MetadefCatalog.object(body, now: now)
            object.createdAt = old.createdAt
            if object.name != name && namespace.objects[object.name] != nil {
                throw MetadefCatalog.duplicate("object", object.name, in: namespace.namespace)
            }
            namespace.objects[name] = nil
            namespace.objects[object.name] = object
            return (object, namespace)
        }
        return try jsonResponse(Self.objectObject(object, in: namespace))
    }

    // MARK: Tags

    @Sendable func listTags(_ request: Request, context: APIRequestContext) async throws -> Response {
        let tags = try visible(context).tags.values.sorted { $0.name < $1.name }.map(Self.tagObject)
        return try jsonResponse(["tags": tags])
    }

    @Sendable func showTag(_ request: Request, context: APIRequestContext) async throws -> Response {
        let name = try context.pathParameter("name")
        let namespace = try visible(context)
        guard let tag = namespace.tags[name] else { throw MetadefCatalog.missing("tag", name, in: namespace.namespace) }
        return try jsonResponse(Self.tagObject(tag))
    }

    /// `POST …/tags` `{"tags": [{"name": …}, …]}`: replaces the namespace's tags, or adds to them
    /// with `X-Openstack-Append: True` (Glance's rule).
    @Sendable func createTags(_ request: Request, context: APIRequestContext) async throws -> Response {
        let names = try MetadefCatalog.items(try await requestJSONObject(request)["tags"], "tags").map(MetadefCatalog.tagName)
        guard Set(names).count == names.count else { throw GlanceError(.conflict, "Duplicate tag names in the request.") }
        let append = request.headers[.metadefsAppend]?.lowercased() == "true"
        let tags = try await modify(context) { namespace, now in
            if !append { namespace.tags = [:] }
            for name in names {
                guard namespace.tags[name] == nil else { throw MetadefCatalog.duplicate("tag", name, in: namespace.namespace) }
                namespace.tags[name] = MetadefTag(name: name, now: now)
            }
            return names.compactMap { namespace.tags[$0] }
        }
        return try jsonResponse(["tags": tags.map { ["name": $0.name] }], status: .created)
    }

    @Sendable func createTag(_ request: Request, context: APIRequestContext) async throws -> Response {
        let name = try context.pathParameter("name")
        let tag = try await modify(context) { namespace, now in
            guard namespace.tags[name] == nil else { throw MetadefCatalog.duplicate("tag", name, in: namespace.namespace) }
            let tag = MetadefTag(name: name, now: now)
            namespace.tags[name] = tag
            return tag
        }
        return try jsonResponse(Self.tagObject(tag), status: .created)
    }

    @Sendable func updateTag(_ request: Request, context: APIRequestContext) async throws -> Response {
        let name = try context.pathParameter("name")
        let renamed = try MetadefCatalog.tagName(.object(try await requestJSONObject(request)))
        let tag = try await modify(context) { namespace, now in
            guard var tag = namespace.tags[name] else { throw MetadefCatalog.missing("tag", name, in: namespace.namespace) }
            if renamed != name && namespace.tags[renamed] != nil { throw MetadefCatalog.duplicate("tag", renamed, in: namespace.namespace) }
            namespace.tags[name] = nil
            tag.name = renamed
            tag.updatedAt = now
            namespace.tags[renamed] = tag
            return tag
        }
        return try jsonResponse(Self.tagObject(tag))
    }
}
