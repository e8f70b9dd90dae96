import GranaryHTTP

/// Glance's version discovery document (`glance/api/versions.py`).
///
/// Clients read it before anything else: glanceclient's shell wants 200 on `/versions`, tempest
/// wants 300 on `/`, and both look for `v2.N` entries whose links point at `<root>/v2/`.
package struct VersionsDocument: Encodable, Sendable {
    package struct Version: Encodable, Sendable {
        package struct Link: Encodable, Sendable {
            package let rel: String
            package let href: String
        }
        package let id: String
        package let status: String
        package let links: [Link]
    }

    package let versions: [Version]

    /// Minor versions of the v2 API whose features Granary serves: members and JSON patch
    /// (2.1), deactivation (2.3), community visibility (2.5), interoperable import (2.6),
    /// `os_hidden` and multihash (2.7), the 2.9 bump, image tasks (2.12), `/info/usage`
    /// (2.13), the cache API over the page cache (2.14) and `/info/stores/detail` (2.15, 404
    /// with one store, as Glance). Not served: multi-store (2.8, 2.10, 2.11), the later cache
    /// API versions (2.16, 2.18), locations (2.17).
    package static let servedMinorVersions = [0, 1, 2, 3, 4, 5, 6, 7, 9, 12, 13, 14, 15]

    /// The document for a server reachable at `root` (e.g. `http://127.0.0.1:9292`).
    package init(root: String) {
        let href = root.hasSuffix("/") ? root + "v2/" : root + "/v2/"
        let newest = Self.servedMinorVersions.max() ?? 0
        versions = Self.servedMinorVersions.sorted(by: >).map { minor in
            Version(
                id: "v2.\(minor)",
                status: minor == newest ? "CURRENT" : "SUPPORTED",
                links: [.init(rel: "self", href: href)]
            )
        }
    }
}
