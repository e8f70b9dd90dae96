public import GranaryCatalog
public import GranaryFetch
public import GranaryHTTP
public import GranaryStore
public import Logging

/// How the images and artifacts APIs authenticate callers.
public enum AuthSetting: String, CaseIterable, Sendable {
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
public struct Settings: Sendable {
    public var dataDirectory = "./data"
    public var host = "127.0.0.1"
    public var port = 9292
    public var artifactsPort = 9494
    public var auth = AuthSetting.noauth
    public var keystoneURL: String?
    public var keystoneCredentials: KeystoneValidator.ServiceCredentials?
    public var clientSocketTimeout: Int? = 900
    public var clientHeaderTimeout = 60
    public var artifactTypesFile: String?
    public var externalFetch = ExternalFetchPolicy()
    public var webDownload = ExternalFetchPolicy.webDownload
    /// Server-wide artifact quotas (`max_artifact_number`, `max_uploaded_data`); absent: unlimited.
    public var artifactQuotas: [String: Int] = [:]
    public var logLevel = Logger.Level.info
    public var store = StoreSettings()
    public var gc = GCSettings()
    public var images = ImagesSettings()

    /// Garbage collection: what each run may do, and how often the server runs one.
    public struct GCSettings: Sendable {
        public var options = GCOptions()
        public var interval = 3600

        public init() {}
    }

    public init() {}
}
