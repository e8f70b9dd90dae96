import Configuration
import Foundation
import GranaryCatalog
import GranaryCodec
import GranaryFetch
import GranaryHTTP
import GranaryServer
import GranaryStore
import Logging
import SystemPackage

/// Settings resolved from the config file, then `GRANARY_*` environment
/// variables, then command-line flags (each layer overrides the one before).
///
/// Keys (file key / environment variable):
/// `data` / `GRANARY_DATA`, `host` / `GRANARY_HOST`, `port` / `GRANARY_PORT`,
/// `artifacts_port` / `GRANARY_ARTIFACTS_PORT`, `auth` / `GRANARY_AUTH`,
/// `keystone_url` / `GRANARY_KEYSTONE_URL`, the service credentials keystone auth validates tokens
/// with (`keystone.username`, `keystone.password`, `keystone.project`, `keystone.user_domain`,
/// `keystone.project_domain`; without them each token validates itself), `log_level` / `GRANARY_LOG_LEVEL`,
/// `index.map_size` / `GRANARY_INDEX_MAP_SIZE` (bytes),
/// `store.compression` / `GRANARY_STORE_COMPRESSION` (inline, deferred, off),
/// `store.pack_writes` / `GRANARY_STORE_PACK_WRITES` (buffered, direct),
/// `store.verify_reads` / `GRANARY_STORE_VERIFY_READS` (true, false),
/// `store.cold_reads` / `GRANARY_STORE_COLD_READS` (cached, direct),
/// `store.pack_size` / `GRANARY_STORE_PACK_SIZE` (bytes),
/// `gc.grace` / `GRANARY_GC_GRACE` (seconds), `gc.throttle_mbps` / `GRANARY_GC_THROTTLE_MBPS`,
/// `gc.threshold` / `GRANARY_GC_THRESHOLD` (dead share, percent), `gc.interval` / `GRANARY_GC_INTERVAL`
/// (seconds between the server's background GC runs; 0 turns them off), `gc.object_threshold` (dead
/// share of an object pack, percent, default 30), `gc.retire_delay` (seconds, default 600),
/// `gc.orphan_age` (seconds, default 86400),
/// `stores.ID.url` / `.auth_url` / `.user` / `.key` / `.region` (pack stores, configuration file only),
/// `default_store`, `cache.dir`, `cache.max_bytes` (docs/object-stores.md),
/// `images.size_cap` / `GRANARY_IMAGES_SIZE_CAP` (bytes, Glance's `image_size_cap`),
/// `images.hash_algo` / `GRANARY_IMAGES_HASH_ALGO` (`os_hash_algo`: sha512, sha256, …),
/// `images.legacy_checksum` / `GRANARY_IMAGES_LEGACY_CHECKSUM` (compute the md5 `checksum`),
/// `images.stage_ttl` / `GRANARY_IMAGES_STAGE_TTL` (seconds a stage waits for its import),
/// `images.require_format_match` / `GRANARY_IMAGES_REQUIRE_FORMAT_MATCH` (Glance's format inspection of `bare` uploads),
/// `images.user_storage_quota` / `GRANARY_IMAGES_USER_STORAGE_QUOTA` (bytes of image data per owner, e.g. `10GB`; 0: unlimited),
/// `images.property_protection_file` / `GRANARY_IMAGES_PROPERTY_PROTECTION_FILE` (Glance's property
/// protections, roles format: INI sections of property-name regexes with create/read/update/delete roles),
/// `images.import_methods` / `GRANARY_IMAGES_IMPORT_METHODS` (comma list of glance-direct, web-download,
/// glance-download; default the first two, and glance-download too with auth keystone),
/// `images.web_download.allowed_hosts` (comma list of `host[:port]` a web-download URI may name that
/// resolve to non-public addresses), `images.web_download.allowed_ports` (comma list, default 80,443),
/// `images.web_download.allow_http` (default true, as Glance), `images.web_download.timeout` (seconds per fetch),
/// `artifacts.types_file` / `GRANARY_ARTIFACTS_TYPES_FILE` (operator-defined artifact types, JSON),
/// `artifacts.max_artifact_number` / `artifacts.max_uploaded_data` (default quotas per project, -1 unlimited),
/// `artifacts.external.allow_http` (fetch plain-http external locations), `artifacts.external.copy` (keep
/// the fetched bytes in the store: the blob is then internal), `artifacts.external.allowed_hosts`
/// (comma list of `host[:port]` that may resolve to non-public addresses), `artifacts.external.timeout` (seconds),
/// `client_socket_timeout` / `GRANARY_CLIENT_SOCKET_TIMEOUT` (seconds a connection may go without
/// a read or a write before it is closed, as Glance's option; 0 never closes),
/// `client_header_timeout` / `GRANARY_CLIENT_HEADER_TIMEOUT` / `--client-header-timeout` (seconds a
/// client has to send a whole request head, default 60, as nginx's option; a client that trickles
/// its headers is cut off).
extension Settings {
    /// A configuration value that is present but unusable.
    struct Invalid: Error, CustomStringConvertible {
        let description: String
    }

    /// Resolves the settings. `flags` holds only what the user passed on the command line.
    static func load(
        common: CommonOptions,
        flags: [String: String] = [:],
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) async throws -> Settings {
        var values = flags
        if let data = common.data { values["data"] = data }
        if let level = common.logLevel { values["log_level"] = level }
        var providers: [any ConfigProvider] = [
            InMemoryProvider(
                name: "flags",
                values: Dictionary(
                    uniqueKeysWithValues: values.map { (AbsoluteConfigKey(stringLiteral: $0.key), ConfigValue(.string($0.value), isSecret: false)) })
            ),
            EnvironmentVariablesProvider(environmentVariables: granaryVariables(environment)),
        ]
        if let file = common.config {
            guard FileManager.default.fileExists(atPath: file) else {
                throw Invalid(description: "configuration file \(file) does not exist")
            }
            providers.append(try await FileProvider<JSONSnapshot>(filePath: FilePath(file)))
        }
        let reader = ConfigReader(providers: providers)

        var settings = Settings()
        settings.dataDirectory = reader.string(forKey: "data") ?? settings.dataDirectory
        settings.host = reader.string(forKey: "host") ?? settings.host
        settings.port = try integer(reader, "port", range: 0...65535) ?? settings.port
        settings.artifactsPort = try integer(reader, "artifacts_port", range: 0...65535) ?? settings.artifactsPort
        settings.store.indexMapSize = try integer(reader, "index.map_size", range: (1 << 20)...Int.max) ?? settings.store.indexMapSize
        settings.store.packSizeLimit = try integer(reader, "store.pack_size", range: (1 << 20)...(1 << 32)) ?? settings.store.packSizeLimit
        settings.store.compression = try choice(reader, "store.compression") ?? settings.store.compression
        settings.store.packWrites = try choice(reader, "store.pack_writes") ?? settings.store.packWrites
        settings.store.verifyReads = try boolean(reader, "store.verify_reads") ?? settings.store.verifyReads
        settings.store.coldReads = try choice(reader, "store.cold_reads") ?? settings.store.coldReads
        settings.gc.options.grace = try integer(reader, "gc.grace", range: 0...Int(Int32.max)) ?? settings.gc.options.grace
        settings.gc.interval = try integer(reader, "gc.interval", range: 0...Int(Int32.max)) ?? settings.gc.interval
        if let throttle = try integer(reader, "gc.throttle_mbps", range: 1...1_000_000) {
            settings.gc.options.throttleBytesPerSecond = throttle * 1_000_000
        }
        if let percent = try integer(reader, "gc.threshold", range: 1...100) { settings.gc.options.threshold = Double(percent) / 100 }
        if let percent = try integer(reader, "gc.object_threshold", range: 1...100) { settings.gc.options.objectThreshold = Double(percent) / 100 }
        settings.gc.options.retireDelay = try integer(reader, "gc.retire_delay", range: 0...Int(Int32.max)) ?? settings.gc.options.retireDelay
        settings.gc.options.orphanAge = try integer(reader, "gc.orphan_age", range: 0...Int(Int32.max)) ?? settings.gc.options.orphanAge
        settings.images.imageSizeCap = try integer(reader, "images.size_cap", range: 0...Int.max) ?? settings.images.imageSizeCap
        settings.images.stageTimeToLive = try integer(reader, "images.stage_ttl", range: 1...Int(Int32.max)) ?? settings.images.stageTimeToLive
        settings.images.hashAlgorithm = try choice(reader, "images.hash_algo") ?? settings.images.hashAlgorithm
        settings.images.legacyChecksum = try boolean(reader, "images.legacy_checksum") ?? settings.images.legacyChecksum
        settings.images.requireFormatMatch = try boolean(reader, "images.require_format_match") ?? settings.images.requireFormatMatch
        settings.images.userStorageQuota = try bytes(reader, "images.user_storage_quota") ?? settings.images.userStorageQuota
        if let file = common.config {
            for id in try storeIDs(in: file) {
                func value(_ key: String, secret: Bool = false) -> String? {
                    reader.string(forKey: ConfigKey(stringLiteral: "stores.\(id).\(key)"), isSecret: secret)
                }
                guard let url = value("url") else { throw Invalid(description: "stores.\(id).url is required") }
                settings.stores[id] = StoreSetting(
                    url: url, authURL: value("auth_url"), user: value("user"), key: value("key", secret: true), region: value("region"),
                    timeout: try integer(reader, "stores.\(id).timeout", range: 1...3600) ?? 120)
            }
        }
        settings.defaultStore = reader.string(forKey: "default_store")
        settings.cacheDirectory = reader.string(forKey: "cache.dir")
        settings.cacheMaxBytes = try bytes(reader, "cache.max_bytes") ?? settings.cacheMaxBytes
        if let file = reader.string(forKey: "images.property_protection_file") {
            do {
                settings.images.propertyProtections = try PropertyProtections(contentsOf: file)
            } catch {
                throw Invalid(description: error.description)
            }
        }
        if let timeout = try integer(reader, "client_socket_timeout", range: 0...Int(Int32.max)) {
            settings.clientSocketTimeout = timeout == 0 ? nil : timeout
        }
        settings.clientHeaderTimeout = try integer(reader, "client_header_timeout", range: 1...Int(Int32.max)) ?? settings.clientHeaderTimeout
        settings.keystoneURL = reader.string(forKey: "keystone_url")
        settings.artifactTypesFile = reader.string(forKey: "artifacts.types_file")
        for name in ["max_artifact_number", "max_uploaded_data"] {
            if let value = try integer(reader, "artifacts." + name, range: -1...Int.max) { settings.artifactQuotas[name] = value }
        }
        settings.externalFetch.allowHTTP = try boolean(reader, "artifacts.external.allow_http") ?? false
        settings.externalFetch.copy = try boolean(reader, "artifacts.external.copy") ?? false
        settings.externalFetch.timeout = try integer(reader, "artifacts.external.timeout", range: 1...3600) ?? settings.externalFetch.timeout
        settings.externalFetch.allowedHosts = Set(list(reader, "artifacts.external.allowed_hosts")?.map { $0.lowercased() } ?? [])
        let configuredMethods = list(reader, "images.import_methods")
        if let methods = configuredMethods {
            if let unknown = methods.first(where: { ImportMethod(rawValue: $0) == nil }) {
                let served = ImportMethod.allCases.map(\.rawValue).joined(separator: ", ")
                throw Invalid(description: "images.import_methods: '\(unknown)' is not an import method served here (\(served))")
            }
            settings.images.importMethods = methods.compactMap(ImportMethod.init(rawValue:))
        }
        settings.webDownload.allowHTTP = try boolean(reader, "images.web_download.allow_http") ?? settings.webDownload.allowHTTP
        settings.webDownload.timeout = try integer(reader, "images.web_download.timeout", range: 1...Int(Int32.max)) ?? settings.webDownload.timeout
        settings.webDownload.allowedHosts = Set(list(reader, "images.web_download.allowed_hosts")?.map { $0.lowercased() } ?? [])
        if let ports = list(reader, "images.web_download.allowed_ports") {
            let numbers = ports.compactMap { Int($0) }.filter { (1...65535).contains($0) }
            guard numbers.count == ports.count else {
                throw Invalid(description: "images.web_download.allowed_ports must be a comma list of ports, not '\(ports.joined(separator: ","))'")
            }
            settings.webDownload.allowedPorts = Set(numbers)
        }
        if let username = reader.string(forKey: "keystone.username") {
            guard let password = reader.string(forKey: "keystone.password", isSecret: true), let project = reader.string(forKey: "keystone.project")
            else { throw Invalid(description: "keystone.username needs keystone.password and keystone.project") }
            settings.keystoneCredentials = .init(
                username: username, password: password, project: project,
                userDomain: reader.string(forKey: "keystone.user_domain") ?? "Default",
                projectDomain: reader.string(forKey: "keystone.project_domain") ?? "Default")
        }
        settings.auth = try choice(reader, "auth") ?? settings.auth
        settings.logLevel = try choice(reader, "log_level") ?? settings.logLevel
        if settings.auth == .keystone && settings.keystoneURL == nil {
            throw Invalid(description: "auth keystone needs keystone_url (--keystone-url or GRANARY_KEYSTONE_URL)")
        }
        // glance-download finds the other region through the caller's Keystone catalog.
        if settings.auth == .keystone && configuredMethods == nil { settings.images.importMethods.append(.glanceDownload) }
        if settings.auth != .keystone, settings.images.importMethods.contains(.glanceDownload) {
            throw Invalid(description: "images.import_methods: glance-download needs auth keystone")
        }
        return settings
    }

    /// A byte count: a number, or text with B, KB, MB, GB or TB (1024-based).
    private static func bytes(_ reader: ConfigReader, _ key: String) throws -> Int? {
        if let text = reader.string(forKey: ConfigKey(stringLiteral: key)) {
            guard let bytes = Self.byteCount(text) else {
                throw Invalid(description: "\(key) must be a byte count, optionally with B, KB, MB, GB or TB (1024-based), not '\(text)'")
            }
            return bytes
        }
        return try integer(reader, key, range: 0...Int.max)  // a number in the configuration file
    }

    /// The ids of the `stores` object of the configuration file (a key-value reader cannot list them).
    static func storeIDs(in file: String) throws -> [String] {
        guard let data = FileManager.default.contents(atPath: file),
            let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any], let stores = root["stores"]
        else { return [] }
        guard let table = stores as? [String: Any] else { throw Invalid(description: "stores must be an object of store ids") }
        for id in table.keys
        where id.isEmpty || id.utf8.count > 64 || !id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) {
            throw Invalid(description: "store id '\(id)' must be 1 to 64 letters, digits, '-' or '_'")
        }
        return table.keys.sorted()
    }

    /// `GRANARY_PORT=1` becomes `PORT=1`, which the environment provider maps to key `port`.
    static func granaryVariables(_ environment: [String: String]) -> [String: String] {
        var result: [String: String] = [:]
        for (name, value) in environment where name.hasPrefix("GRANARY_") {
            result[String(name.dropFirst("GRANARY_".count))] = value
        }
        return result
    }

    /// Glance's quota notation: digits, then optionally B, KB, MB, GB or TB (powers of 1024).
    static func byteCount(_ text: String) -> Int? {
        let units: [(String, Int)] = [("KB", 1 << 10), ("MB", 1 << 20), ("GB", 1 << 30), ("TB", 1 << 40), ("B", 1), ("", 1)]
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        for (suffix, factor) in units where trimmed.hasSuffix(suffix) {
            guard let number = Int(trimmed.dropLast(suffix.count).trimmingCharacters(in: .whitespaces)), number >= 0 else { return nil }
            let (bytes, overflow) = number.multipliedReportingOverflow(by: factor)
            return overflow ? nil : bytes
        }
        return nil
    }

    /// A comma list, its items trimmed, empty ones dropped.
    private static func list(_ reader: ConfigReader, _ key: String) -> [String]? {
        reader.string(forKey: ConfigKey(stringLiteral: key)).map { text in
            text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
    }

    /// Reads a boolean that may come as one (file) or as the text true/false (environment, flags).
    private static func boolean(_ reader: ConfigReader, _ key: String) throws -> Bool? {
        let configKey = ConfigKey(stringLiteral: key)
        guard let text = reader.string(forKey: configKey) ?? reader.bool(forKey: configKey).map(String.init) else { return nil }
        guard let parsed = Bool(text.lowercased()) else { throw Invalid(description: "\(key) must be true or false, not '\(text)'") }
        return parsed
    }

    /// Reads one of an enumeration's values by name; a present but unknown one is an error that
    /// lists the accepted names ("must be a, b or c").
    private static func choice<Value: RawRepresentable & CaseIterable>(_ reader: ConfigReader, _ key: String) throws -> Value?
    where Value.RawValue == String {
        guard let text = reader.string(forKey: ConfigKey(stringLiteral: key)) else { return nil }
        guard let value = Value(rawValue: text) else {
            let names = Value.allCases.map(\.rawValue)
            let list = names.count > 1 ? names.dropLast().joined(separator: ", ") + " or " + names.last! : names.joined()
            throw Invalid(description: "\(key) must be \(list), not '\(text)'")
        }
        return value
    }

    /// Reads an integer that may come as a number (file) or a string (environment, flags);
    /// a present but malformed or out-of-range value is an error, never silently ignored.
    private static func integer(_ reader: ConfigReader, _ key: String, range: ClosedRange<Int>) throws -> Int? {
        let configKey = ConfigKey(stringLiteral: key)
        let value: Int
        if let number = reader.int(forKey: configKey) {
            value = number
        } else if let text = reader.string(forKey: configKey) {
            guard let number = Int(text) else { throw Invalid(description: "\(key) must be an integer, not '\(text)'") }
            value = number
        } else {
            return nil
        }
        guard range.contains(value) else { throw Invalid(description: "\(key) must be in \(range), not \(value)") }
        return value
    }
}
