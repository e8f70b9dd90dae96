package import GranaryCatalog
package import GranaryFetch
package import GranaryHTTP
package import GranaryStore
package import Logging

/// How the images and artifacts APIs authenticate callers.
package enum AuthSetting: String, CaseIterable, Sendable {
    /// Every caller is an admin with no project (development; Glance's noauth).
    case noauth
    /// Trust X-Roles / X-Project-Id / X-User-Id / X-Identity-Status set by a keystonemiddleware proxy.
    case headers
    /// Validate X-Auth-Token against Keystone v3 at `keystone_url`.
    case keystone
}

/// Everything configurable, as `granary serve` and the other commands resolve it (the executable
/// reads the configuration file, `GRANARY_*` variables and flags into it; docs/configuration.md
/// lists every key). The defaults are the embedded mode: `./data`, loopback, ports 9292 and 9494.
package struct Settings: Sendable {
    package var dataDirectory = "./data"
    package var host = "127.0.0.1"
    package var port = 9292
    package var artifactsPort = 9494
    package var auth = AuthSetting.noauth
    package var keystoneURL: String?
    package var keystoneCredentials: KeystoneValidator.ServiceCredentials?
    package var clientSocketTimeout: Int? = 900
    package var clientHeaderTimeout = 60
    package var artifactTypesFile: String?
    package var externalFetch = ExternalFetchPolicy()
    package var webDownload = ExternalFetchPolicy.webDownload
    /// Server-wide artifact quotas (`max_artifact_number`, `max_uploaded_data`); absent: unlimited.
    package var artifactQuotas: [String: Int] = [:]
    package var logLevel = Logger.Level.info
    package var store = StoreSettings()
    package var gc = GCSettings()
    package var images = ImagesSettings()
    /// The pack stores (`stores.ID.*`) by id; empty: the local pack directory only.
    package var stores: [String: StoreSetting] = [:]
    /// The store new packs go to (`default_store`).
    package var defaultStore: String?
    /// This node's cache directory (`cache.dir`; default `DATA/cache`).
    package var cacheDirectory: String?
    /// Bytes the node cache of each object store may hold (`cache.max_bytes`).
    package var cacheMaxBytes = 10 << 30

    /// One pack store: where (`url`) and how to authenticate.
    package struct StoreSetting: Sendable, Equatable {
        package var url: String
        package var authURL: String?
        package var user: String?
        package var key: String?
        package var region: String?
        /// Seconds each request to the store may take, its retries included.
        package var timeout = 120

        package init(url: String, authURL: String? = nil, user: String? = nil, key: String? = nil, region: String? = nil, timeout: Int = 120) {
            self.url = url
            self.authURL = authURL
            self.user = user
            self.key = key
            self.region = region
            self.timeout = timeout
        }
    }

    /// Garbage collection: what each run may do, and how often the server runs one.
    package struct GCSettings: Sendable {
        package var options = GCOptions()
        package var interval = 3600

        package init() {}
    }

    package init() {}
}
