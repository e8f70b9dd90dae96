import Foundation
import Testing

@testable import GranaryImagesAPI

/// Every served schema is JSON and carries the name clients and tempest check.
@Suite struct SchemasTests {
    @Test func everySchemaParsesAndIsNamed() throws {
        let names = [
            "image": "image", "images": "images", "member": "member", "members": "members", "task": "task", "tasks": "tasks",
            "metadefs/namespace": "namespace", "metadefs/namespaces": "namespaces",
            "metadefs/resource_type": "resource_type_association", "metadefs/resource_types": "resource_type_associations",
            "metadefs/object": "object", "metadefs/objects": "objects", "metadefs/property": "property",
            "metadefs/properties": "properties", "metadefs/tag": "tag", "metadefs/tags": "tags",
        ]
        #expect(Set(Schemas.all.keys) == Set(names.keys))
        for (key, text) in Schemas.all {
            let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
            #expect(object?["name"] as? String == names[key], "schema \(key)")
            #expect(object?["properties"] is [String: Any], "schema \(key) has properties")
        }
    }
}
