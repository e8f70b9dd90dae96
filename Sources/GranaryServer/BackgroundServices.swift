import GranaryCatalog
import GranaryStore
import Logging
import ServiceLifecycle

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
