import Foundation
package import GranaryLMDB
package import GranaryParsing

/// A metadata-definition namespace (Glance's metadefs catalog: vocabularies of image
/// properties), with everything in it: resource-type associations, property definitions,
/// objects and tags. Namespaces are small, so one record holds the whole namespace.
package struct MetadefNamespace: Codable, Sendable, Equatable {
    package var namespace: String
    package var displayName: String?
    package var description: String?
    /// public or private.
    package var visibility: String
    package var protected: Bool
    package var owner: String?
    package var createdAt: Int
    package var updatedAt: Int
    package var resourceTypes: [MetadefResourceTypeAssociation] = []
    /// Property definitions by name (JSON-schema-like objects, kept as the client sent them).
    package var properties: [String: JSONValue] = [:]
    package var objects: [String: MetadefObject] = [:]
    package var tags: [String: MetadefTag] = [:]

    /// The named entries a namespace holds.
    package enum Section: String, Sendable {
        case property, object, tag
    }

    /// Removes entry `name` of `section`; false when there is none.
    package mutating func remove(_ name: String, from section: Section) -> Bool {
        switch section {
        case .property: properties.removeValue(forKey: name) != nil
        case .object: objects.removeValue(forKey: name) != nil
        case .tag: tags.removeValue(forKey: name) != nil
        }
    }

    package mutating func removeAll(_ section: Section) {
        switch section {
        case .property: properties = [:]
        case .object: objects = [:]
        case .tag: tags = [:]
        }
    }

    package init(namespace: String, visibility: String, protected: Bool, owner: String?, now: Int) {
        self.namespace = namespace
        self.visibility = visibility
        self.protected = protected
        self.owner = owner
        self.createdAt = now
        self.updatedAt = now
    }
}

package struct MetadefResourceTypeAssociation: Codable, Sendable, Equatable {
    package var name: String
    package var prefix: String?
    package var propertiesTarget: String?
    package var createdAt: Int
    package var updatedAt: Int

    package init(name: String, prefix: String?, propertiesTarget: String?, now: Int) {
        self.name = name
        self.prefix = prefix
        self.propertiesTarget = propertiesTarget
        self.createdAt = now
        self.updatedAt = now
    }
}

package struct MetadefObject: Codable, Sendable, Equatable {
    package var name: String
    package var description: String?
    package var required: [String]
    package var properties: [String: JSONValue]
    package var createdAt: Int
    package var updatedAt: Int

    package init(name: String, description: String?, required: [String], properties: [String: JSONValue], now: Int) {
        self.name = name
        self.description = description
        self.required = required
        self.properties = properties
        self.createdAt = now
        self.updatedAt = now
    }
}

package struct MetadefTag: Codable, Sendable, Equatable {
    package var name: String
    package var createdAt: Int
    package var updatedAt: Int

    package init(name: String, now: Int) {
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
package struct MetadefIndex: Sendable {
    let namespaces: Database

    package init(environment: Environment) throws {
        namespaces = try environment.openDatabase("metadefs.namespaces")
    }

    package func get(_ name: String, in txn: borrowing Transaction<some TransactionAccess>) throws -> MetadefNamespace? {
        try txn.value(namespaces, Array(name.utf8)).map { try JSONDecoderBox.decode(MetadefNamespace.self, $0) }
    }

    package func put(_ namespace: MetadefNamespace, in txn: borrowing WriteTransaction) throws {
        try txn.put(namespaces, Array(namespace.namespace.utf8), try JSONDecoderBox.encode(namespace))
    }

    package func delete(_ name: String, in txn: borrowing WriteTransaction) throws {
        try txn.delete(namespaces, Array(name.utf8))
    }

    /// Every namespace, in name order.
    package func all<Access: TransactionAccess>(in txn: borrowing Transaction<Access>) throws -> [MetadefNamespace] {
        var result: [MetadefNamespace] = []
        try txn.forEach(namespaces) { _, value in
            result.append(try JSONDecoderBox.decode(MetadefNamespace.self, Array(value)))
            return true
        }
        return result
    }
}
