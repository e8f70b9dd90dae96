import Foundation
import GranaryCatalog
public import GranaryFetch
import GranaryIndex
import Logging
public import ServiceLifecycle
import Synchronization

/// The web-download fetches running in the background (an import answers 202 at once, as
/// Glance's, and clients follow the image's status and tasks), as a service of the application:
/// at graceful shutdown each fetch is cancelled and waited for, so that its import fails
/// cleanly (the image `queued` again, the task failed with the reason) before the process
/// exits. A process killed meanwhile leaves that to the next start
/// (``ImageCatalog/recoverInterruptedWork()``).
public final class WebDownloads: Service, Sendable {
    let fetcher: ExternalFetcher
    private let running = Mutex<(tasks: [UUID: Task<Void, Never>], stopping: Bool)>(([:], false))

    public init(policy: ExternalFetchPolicy = .webDownload) {
        fetcher = ExternalFetcher(policy: policy)
    }

    /// Fetches `uri` into the import `task` of `catalog`, in the background.
    func start(_ uri: String, task: String, catalog: ImageCatalog, logger: Logger) {
        let fetcher = fetcher
        let key = UUID()
        running.withLock { state in
            let work = Task {
                let ended = await catalog.completeImport(task) { sink in
                    do {
                        let opened = try await fetcher.open(uri, cap: catalog.settings.imageSizeCap)
                        _ = try await opened.stream { buffer in try await UploadBody.write(buffer, into: sink) }
                    } catch {
                        guard Task.isCancelled else { throw error }
                        throw CatalogError(.gone, "The server was stopped during the web-download of \(uri); import the image again.")
                    }
                }
                if let ended, ended.status != "success" {
                    logger.warning("web-download of \(uri) failed: \(ended.message)", metadata: ["image": "\(ended.imageID)", "task": "\(task)"])
                }
                _ = self.running.withLock { $0.tasks.removeValue(forKey: key) }
            }
            if state.stopping { work.cancel() }
            state.tasks[key] = work
        }
    }

    /// Waits for graceful shutdown, then cancels the fetches still running and waits for their
    /// imports to be failed.
    public func run() async throws {
        try? await gracefulShutdown()
        let tasks = running.withLock { state in
            state.stopping = true
            return Array(state.tasks.values)
        }
        for task in tasks { task.cancel() }
        for task in tasks { await task.value }
    }
}
