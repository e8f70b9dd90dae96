/// Glance's version discovery document (`glance/api/versions.py`).
///
/// Clients read it before anything else: glanceclient's shell wants 200 on `/versions`, tempest
/// wants 300 on `/`, and both look for `v2.N` entries whose links point at `<root>/v2/`.
public struct VersionsDocument: Encodable, Sendable {
    public struct Version: Encodable, Sendable {
        public struct Link: Encodable, Sendable {
            public let rel: String
            public let href: String
        }
        public let id: String
        public let status: String
        public let links: [Link]
    }

    public let versions: [Version]

    /// Minor versions of the v2 API whose features Granary serves, newest first.
    /// Grows as the images API fills in (see README, features table).
    public static let servedMinorVersions = [0]

    /// The document for a server reachable at `root` (e.g. `http://127.0.0.1:9292`).
    public init(root: String) {
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
