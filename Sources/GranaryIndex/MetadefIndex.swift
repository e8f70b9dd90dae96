import Foundation
public import GranaryLMDB
public import GranaryParsing

/// A metadata-definition namespace (Glance's metadefs catalog: vocabularies of image
/// properties), with everything in it: resource-type associations, property definitions,
/// objects and tags. Namespaces are small, so one record holds the whole namespace.
public struct MetadefNamespace: Codable, Sendable, Equatable {
    public var namespace: String
    public var displayName: String?
    public var description: String?
    /// public or private.
    public var visibility: String
    public var protected: Bool
    public var owner: String?
    public var createdAt: Int
    public var updatedAt: Int
    public var resourceTypes: [MetadefResourceTypeAssociation] = []
    /// Property definitions by name (JSON-schema-like objects, kept as the client sent them).
    public var properties: [String: JSONValue] = [:]
    public var objects: [String: MetadefObject] = [:]
    public var tags: [String: MetadefTag] = [:]

    /// The named entries a namespace holds.
    public enum Section: String, Sendable {
        case property, object, tag
    }

    /// Removes entry `name` of `section`; false when there is none.
    public mutating func remove(_ name: String, from section: Section) -> Bool {
        switch section {
        case .property: properties.removeValue(forKey: name) != nil
        case .object: objects.removeValue(forKey: name) != nil
        case .tag: tags.removeValue(forKey: name) != nil
        }
    }

    public mutating func removeAll(_ section: Section) {
        switch section {
        case .property: properties = [:]
        case .object: objects = [:]
        case .tag: tags = [:]
        }
    }

    public init(namespace: String, visibility: String, protected: Bool, owner: String?, now: Int) {
        self.namespace = namespace
        self.visibility = visibility
        self.protected = protected
        self.owner = owner
        self.createdAt = now
        self.updatedAt = now
    }
}

public struct MetadefResourceTypeAssociation: Codable, Sendable, Equatable {
    public var name: String
    public var prefix: String?
    public var propertiesTarget: String?
    public var createdAt: Int
    public var updatedAt: Int

    public init(name: String, prefix: String?, propertiesTarget: String?, now: Int) {
        self.name = name
        self.prefix = prefix
        self.propertiesTarget = propertiesTarget
        self.createdAt = now
        self.updatedAt = now
    }
}

public struct MetadefObject: Codable, Sendable, Equatable {
    public var name: String
    public var description: String?
    public var required: [String]
    public var properties: [String: JSONValue]
    public var createdAt: Int
    public var updatedAt: Int

    public init(name: String, description: String?, required: [String], properties: [String: JSONValue], now: Int) {
        self.name = name
        self.description = description
        self.required = required
        self.properties = properties
        self.createdAt = now
        self.updatedAt = now
    }
}

public struct MetadefTag: Codable, Sendable, Equatable {
    public var name: String
    public var createdAt: Int
    public var updatedAt: Int

    public init(name: String, now: Int) {
        self.name = name
        self.createdAt = now
        self.updatedAt = now
    }
}

/// Metadefs in LMDB.
///
/// | database | key | value |
/// |---|---|---|
/// | `metadefs.namespaces` | namespace name | ``MetadefNamespace`` as JSON |
public struct MetadefIndex: Sendable {
    let namespaces: Database

    public init(environment: Environment) throws {
        namespaces = try environment.openDatabase("metadefs.namespaces")
    }

    public func get(_ name: String, in txn: borrowing Transaction<some TransactionAccess>) throws -> MetadefNamespace? {
        try txn.value(namespaces, Array(name.utf8)).map { try JSONDecoderBox.decode(MetadefNamespace.self, $0) }
    }

    public func put(_ namespace: MetadefNamespace, in txn: borrowing WriteTransaction) throws {
        try txn.put(namespaces, Array(namespace.namespace.utf8), try JSONDecoderBox.encode(namespace))
    }

    public func delete(_ name: String, in txn: borrowing WriteTransaction) throws {
        try txn.delete(namespaces, Array(name.utf8))
    }

    /// Every namespace, in name order.
    public func all<Access: TransactionAccess>(in txn: borrowing Transaction<Access>) throws -> [MetadefNamespace] {
        var result: [MetadefNamespace] = []
        try txn.forEach(namespaces) { _, value in
            result.append(try JSONDecoderBox.decode(MetadefNamespace.self, Array(value)))
            return true
        }
        return result
    }
}
