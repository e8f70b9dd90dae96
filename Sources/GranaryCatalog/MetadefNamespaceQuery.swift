import GranaryIndex
import GranaryParsing

/// The query of `GET /metadefs/namespaces`, as Glance reads it: `limit` (default 25, at most
/// 1000), `marker` (a namespace name), `sort_key` (a namespace column, default `created_at`),
/// `sort_dir` (`asc`/`desc`, default `desc`), `visibility` (`public`/`private`) and
/// `resource_types` (comma list; a namespace associated with any of them matches).
package struct MetadefNamespaceQuery: Sendable {
    package var limit = 25
    package var marker: String?
    package var sortKey = "created_at"
    package var descending = true
    package var visibility: String?
    package var resourceTypes: [String] = []

    /// The columns a list can be sorted by (Glance sorts by any column of its namespace table).
    package static let sortKeys: Set<String> = [
        "namespace", "display_name", "description", "visibility", "protected", "owner", "created_at", "updated_at",
    ]

    package init() {}

    /// Parses the query parameters; a malformed one is a 400 naming it. Unknown parameters are
    /// ignored, as Glance does.
    package init(parameters: [(String, String)]) throws(CatalogError) {
        func bad(_ text: String) -> CatalogError { CatalogError(.badRequest, text) }
        for (name, value) in parameters {
            switch name {
            case "limit":
                guard let n = DecimalText.integer(value) else { throw bad("limit param must be an integer") }
                guard n >= 0 else { throw bad("limit param must be positive") }
                limit = min(n, 1000)
            case "marker": marker = value
            case "sort_key":
                guard Self.sortKeys.contains(value) else {
                    throw bad("Invalid sort key: \(value). It must be one of the following: \(Self.sortKeys.sorted().joined(separator: ", ")).")
                }
                sortKey = value
            case "sort_dir":
                guard value == "asc" || value == "desc" else { throw bad("Invalid sort direction: \(value)") }
                descending = value == "desc"
            case "visibility":
                guard value == "public" || value == "private" else { throw bad("Invalid visibility value: \(value)") }
                visibility = value
            case "resource_types": resourceTypes = value.split(separator: ",").map(String.init)
            default: continue
            }
        }
    }

    /// Whether `namespace` passes the filters (visibility to the caller is checked apart).
    func matches(_ namespace: MetadefNamespace) -> Bool {
        (visibility == nil || namespace.visibility == visibility)
            && (resourceTypes.isEmpty || namespace.resourceTypes.contains { resourceTypes.contains($0.name) })
    }

    /// Whether `a` comes before `b`: by the sort key in the asked direction, then by creation
    /// time and name in the same direction (names are unique, so the order is total). An unset
    /// value sorts below every set one, as SQL's NULL does.
    func precedes(_ a: MetadefNamespace, _ b: MetadefNamespace) -> Bool {
        let keys = [sortKey, "created_at", "namespace"]
        for key in keys {
            let (x, y) = (Self.value(a, key), Self.value(b, key))
            if x != y { return descending ? y < x : x < y }
        }
        return false
    }

    /// A column's value as a comparable key: nil below any string, numbers zero-padded.
    private static func value(_ namespace: MetadefNamespace, _ key: String) -> SortValue {
        switch key {
        case "namespace": .text(namespace.namespace)
        case "display_name": namespace.displayName.map(SortValue.text) ?? .null
        case "description": namespace.description.map(SortValue.text) ?? .null
        case "visibility": .text(namespace.visibility)
        case "protected": .number(namespace.protected ? 1 : 0)
        case "owner": namespace.owner.map(SortValue.text) ?? .null
        case "updated_at": .number(namespace.updatedAt)
        default: .number(namespace.createdAt)
        }
    }

    private enum SortValue: Comparable {
        case null
        case number(Int)
        case text(String)
    }
}
