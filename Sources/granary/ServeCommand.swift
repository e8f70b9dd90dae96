import ArgumentParser
import GranaryArtifactsAPI
import GranaryCatalog
import GranaryHTTP
import GranaryImagesAPI
import GranaryStore
import Hummingbird
import Logging
import ServiceLifecycle

/// `granary serve`: the images API (and, as it lands, the artifacts API) on one store.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the server: Glance v2 images API on --port, artifacts API on --artifacts-port.",
        discussion: "Holds the data directory's lock exclusively; crash recovery runs at start."
    )

    @OptionGroup var common: CommonOptions

    @Option(help: "Address to listen on (default 127.0.0.1).")
    var host: String?

    @Option(help: "Images API port (default 9292, Glance's).")
    var port: Int?

    @Option(name: .customLong("artifacts-port"), help: "Artifacts API port (default 9494, Glare's).")
    var artifactsPort: Int?

    @Option(name: .customLong("client-header-timeout"), help: "Seconds a client has to send a request head (default 60).")
    var clientHeaderTimeout: Int?

    @Option(help: "Authentication: noauth, headers or keystone (default noauth).")
    var auth: String?

    @Option(name: .customLong("keystone-url"), help: "Keystone v3 URL, for --auth keystone.")
    var keystoneURL: String?

    func validate() throws {
        if let auth, AuthMode(rawValue: auth) == nil {
            throw ValidationError("--auth must be noauth, headers or keystone, not '\(auth)'")
        }
    }

    func run() async throws {
        var flags: [String: String] = [:]
        flags["host"] = host
        flags["port"] = port.map(String.init)
        flags["artifacts_port"] = artifactsPort.map(String.init)
        flags["auth"] = auth
        flags["client_header_timeout"] = clientHeaderTimeout.map(String.init)
        flags["keystone_url"] = keystoneURL
        let settings = try await Settings.load(common: common, flags: flags)
        let logger = makeLogger(level: settings.logLevel)

        let dataDirectory = try DataDirectory(path: settings.dataDirectory, access: .exclusive)
        let store = try BlobStore(directory: dataDirectory, settings: settings.store, logger: logger)
        let catalog = try ImageCatalog(store: store, settings: settings.images)
        let recovery = try await catalog.recoverInterruptedWork()
        for id in recovery.requeued {
            logger.notice("recovery: image \(id) was left mid-upload by an interrupted process; it is queued again")
        }
        for id in recovery.imported {
            logger.notice("recovery: image \(id) was left importing by an interrupted process; its import is finished")
        }
        let artifacts = try ArtifactCatalog(
            store: store, registry: try settings.artifactTypesFile.map(ArtifactTypeRegistry.init(loading:)) ?? ArtifactTypeRegistry(),
            defaultQuotas: settings.artifactQuotas)
        for slot in try await artifacts.recoverInterruptedUploads() {
            logger.notice("recovery: artifact blob \(slot) was left saving by an interrupted upload; its last committed data is back")
        }
        let auth: GranaryHTTP.AuthMode
        switch settings.auth {
        case .noauth: auth = .noauth
        case .headers: auth = .headers
        case .keystone:
            // Settings.load requires keystone_url with auth keystone.
            auth = .keystone(KeystoneValidator(url: settings.keystoneURL ?? "", credentials: settings.keystoneCredentials))
        }
        logger.info(
            "granary serving",
            metadata: [
                "data": "\(dataDirectory.root)", "images": "\(settings.host):\(settings.port)",
                "artifacts": "\(settings.host):\(settings.artifactsPort)", "artifact_types": "\(artifacts.registry.types.count)",
                "auth": "\(settings.auth.rawValue)", "compression": "\(settings.store.compression.rawValue)",
            ]
        )
        let gc = GCRunner(store: store, defaults: settings.gc.options, interval: settings.gc.interval)
        // The artifacts API listens on its own port, in this process, as a service of the images app.
        let artifactsApp = Application(
            router: buildArtifactsRouter(catalog: artifacts, auth: auth, external: settings.externalFetch),
            server: apiServer(idleTimeout: settings.clientSocketTimeout, headerTimeout: settings.clientHeaderTimeout),
            configuration: .init(address: .hostname(settings.host, port: settings.artifactsPort), serverName: "granary-artifacts"),
            logger: logger
        )
        let imports = BackgroundImports(webDownload: settings.webDownload, keystoneURL: settings.auth == .keystone ? settings.keystoneURL : nil)
        let app = Application(
            router: buildImagesRouter(catalog: catalog, auth: auth, gc: gc, imports: imports),
            server: apiServer(idleTimeout: settings.clientSocketTimeout, headerTimeout: settings.clientHeaderTimeout),
            configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: "granary"),
            services: [GCService(runner: gc), StageExpiryService(catalog: catalog, logger: logger), imports, artifactsApp],
            logger: logger
        )
        try await app.runService()
        withExtendedLifetime(store) {}
    }
}

/// The server's GC schedule and admin-requested runs, as a service of the application.
struct GCService: Service {
    let runner: GCRunner
    func run() async throws { await cancelWhenGracefulShutdown { await runner.run() } }
}

/// Releases stages older than the stage time-to-live, at start and then every tenth of it
/// (at most every ten minutes), so that abandoned imports do not pin space.
struct StageExpiryService: Service {
    let catalog: ImageCatalog
    let logger: Logger

    func run() async throws {
        let period = max(1, min(catalog.settings.stageTimeToLive / 10, 600))
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    for id in try await catalog.expireStages() {
                        logger.notice("image \(id): its stage was not imported within images.stage_ttl; the image is queued again")
                    }
                } catch {
                    logger.error("stage expiry failed: \(error)")
                }
                try? await Task.sleep(for: .seconds(period))
            }
        }
    }
}

/// The process-wide logger, on standard error.
func makeLogger(level: Logger.Level) -> Logger {
    LoggingSystem.bootstrap { label in
        var handler = StreamLogHandler.standardError(label: label)
        handler.logLevel = level
        return handler
    }
    var logger = Logger(label: "granary")
    logger.logLevel = level
    return logger
}
