import GranaryArtifactsAPI
package import GranaryCatalog
package import GranaryHTTP
import GranaryImagesAPI
package import GranaryStore
package import Hummingbird
package import Logging
import ServiceLifecycle

/// The listeners a Granary process serves.
package enum Listener: String, Sendable {
    /// The Glance v2 images API (`port`).
    case images
    /// The Glare artifacts API (`artifacts_port`).
    case artifacts
}

/// Everything `granary serve` runs: the images application, which carries the artifacts
/// listener and every background service (GC schedule, stage expiry, background imports), and
/// the catalogs over the one store (tests read them; the server reaches them only over HTTP).
package struct GranaryApplication: Sendable {
    package let application: Application<RouterResponder<APIRequestContext>>
    package let store: BlobStore
    package let images: ImageCatalog
    package let artifacts: ArtifactCatalog

    /// Serves until SIGTERM or SIGINT, then shuts down gracefully.
    package func run() async throws {
        try await application.runService()
        withExtendedLifetime(store) {}
    }
}

/// The composition root: opens the data directory (crash recovery runs here), builds both
/// catalogs, both routers and the services from `settings`. `onListening` hears each
/// listener's bound port (port 0 in the settings picks a free one).
package func buildApplication(
    settings: Settings, logger: Logger, onListening: @escaping @Sendable (Listener, Int) async -> Void = { _, _ in }
) async throws -> GranaryApplication {
    let dataDirectory = try DataDirectory(path: settings.dataDirectory, access: .exclusive)
    let store = try BlobStore(directory: dataDirectory, settings: settings.store, placement: try settings.packPlacement(), logger: logger)
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
    let auth: AuthMode
    switch settings.auth {
    case .noauth: auth = .noauth
    case .headers: auth = .headers
    case .keystone:
        guard let url = settings.keystoneURL else { throw SettingsError("auth keystone needs keystone_url") }
        auth = .keystone(KeystoneValidator(url: url, credentials: settings.keystoneCredentials))
    }
    logger.info(
        "granary serving",
        metadata: [
            "data": "\(dataDirectory.root)", "images": "\(settings.host):\(settings.port)",
            "artifacts": "\(settings.host):\(settings.artifactsPort)", "artifact_types": "\(artifacts.registry.types.count)",
            "auth": "\(settings.auth.rawValue)", "compression": "\(settings.store.compression.rawValue)",
        ]
    )
    let server = apiServer(idleTimeout: settings.clientSocketTimeout, headerTimeout: settings.clientHeaderTimeout)
    let gc = GCRunner(store: store, defaults: settings.gc.options, interval: settings.gc.interval)
    // The artifacts API listens on its own port, in this process, as a service of the images app.
    let artifactsApp = Application(
        router: buildArtifactsRouter(catalog: artifacts, auth: auth, external: settings.externalFetch),
        server: server,
        configuration: .init(address: .hostname(settings.host, port: settings.artifactsPort), serverName: "granary-artifacts"),
        onServerRunning: { await onListening(.artifacts, $0.localAddress?.port ?? settings.artifactsPort) },
        logger: logger
    )
    let imports = BackgroundImports(webDownload: settings.webDownload, keystoneURL: settings.auth == .keystone ? settings.keystoneURL : nil)
    let application = Application(
        router: buildImagesRouter(catalog: catalog, auth: auth, gc: gc, imports: imports),
        server: server,
        configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: "granary"),
        services: [GCService(runner: gc), StageExpiryService(catalog: catalog, logger: logger), imports, artifactsApp],
        onServerRunning: { await onListening(.images, $0.localAddress?.port ?? settings.port) },
        logger: logger
    )
    return GranaryApplication(application: application, store: store, images: catalog, artifacts: artifacts)
}

/// Settings that cannot serve (checked again here for callers that did not load them from a file).
package struct SettingsError: Error, CustomStringConvertible {
    package let description: String
    init(_ description: String) { self.description = description }
}
