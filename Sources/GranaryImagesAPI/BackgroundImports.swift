import Foundation
import GranaryCatalog
package import GranaryFetch
import GranaryHTTP
import GranaryIndex
import GranaryParsing
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// The imports whose data is fetched in the background (an import answers 202 at once, as
/// Glance's, and clients follow the image's status and tasks): web-download from a URI, and
/// glance-download from another region's Glance. A service of the application: at graceful
/// shutdown each fetch is cancelled and waited for, so that its import fails cleanly (the image
/// `queued` again, the task failed with the reason) before the process exits. A process killed
/// meanwhile leaves that to the next start (``ImageCatalog/recoverInterruptedWork()``).
package final class BackgroundImports: Service, Sendable {
    /// Fetches web-download URIs under the import filter.
    let webFetcher: ExternalFetcher
    /// Fetches from endpoints of the Keystone catalog, which the operator keeps.
    private let catalogFetcher = ExternalFetcher(policy: .catalogEndpoint)
    /// Keystone's v3 root, where glance-download finds the other region's Glance (keystone auth only).
    let keystoneURL: String?
    private let running = Mutex<(tasks: [UUID: Task<Void, Never>], stopping: Bool)>(([:], false))

    package init(webDownload policy: ExternalFetchPolicy = .webDownload, keystoneURL: String? = nil) {
        webFetcher = ExternalFetcher(policy: policy)
        self.keystoneURL = keystoneURL.map(KeystoneValidator.v3Root)
    }

    /// Fetches `uri` into the import `task` of `catalog`.
    func startWebDownload(_ uri: String, task: String, catalog: ImageCatalog, logger: Logger) {
        let what = "the web-download of \(uri)"
        run(what, task: task, logger: logger) {
            await catalog.completeImport(task) { sink in
                try await Self.copy(uri, with: self.webFetcher, cap: catalog.settings.imageSizeCap, into: sink, what: what)
            }
        }
    }

    /// Copies image `source.imageID` of the Glance in `source.region` (its `source.interface`
    /// endpoint in the caller's Keystone catalog) into the import `task`, with the caller's
    /// token: its formats and Glance's extra properties (``ImageCatalog/AdoptedMetadata``), then
    /// its data.
    func startGlanceDownload(
        _ source: (imageID: String, region: String, interface: String), token: String, task: String, catalog: ImageCatalog, logger: Logger
    ) {
        let what = "the glance-download of image \(source.imageID) from region \(source.region)"
        run(what, task: task, logger: logger) {
            let auth = [("X-Auth-Token", token)]
            do {
                let endpoint = try await self.imageEndpoint(region: source.region, interface: source.interface, token: token)
                let url = "\(endpoint)/v2/images/\(source.imageID)"
                let image = try await self.json(url, headers: auth)
                guard case .string("active")? = image["status"] else {
                    throw CatalogError(.conflict, "Image \(source.imageID) in region \(source.region) is not active.")
                }
                return await catalog.completeImport(task, adopting: ImageCatalog.AdoptedMetadata(sourceImage: image)) { sink in
                    try await Self.copy(
                        url + "/file", with: self.catalogFetcher, headers: auth, cap: catalog.settings.imageSizeCap, into: sink, what: what)
                }
            } catch {
                return await catalog.failImport(task, reason: "\(Self.stopped(error, what))")
            }
        }
    }

    /// The URL of the `image` service's `interface` endpoint in `region`, from the token's catalog.
    private func imageEndpoint(region: String, interface: String, token: String) async throws -> String {
        guard let keystoneURL else { throw CatalogError(.badRequest, "glance-download needs Keystone auth.") }
        let catalog = try await json(keystoneURL + "/auth/catalog", headers: [("X-Auth-Token", token)])
        guard case .array(let services)? = catalog["catalog"] else { throw CatalogError(.gone, "Keystone answered no catalog.") }
        for case .object(let service) in services where service["type"] == .string("image") {
            guard case .array(let endpoints)? = service["endpoints"] else { continue }
            for case .object(let endpoint) in endpoints
            where endpoint["interface"] == .string(interface)
                && (endpoint["region_id"] == .string(region) || endpoint["region"] == .string(region))
            {
                if case .string(let url)? = endpoint["url"] { return url.hasSuffix("/") ? String(url.dropLast()) : url }
            }
        }
        throw CatalogError(.notFound, "The Keystone catalog lists no \(interface) image endpoint in region \(region).")
    }

    /// A JSON object fetched from a catalog endpoint (at most 1 MiB).
    private func json(_ url: String, headers: [(String, String)]) async throws -> [String: JSONValue] {
        var bytes: [UInt8] = []
        _ = try await catalogFetcher.open(url, cap: 1 << 20, headers: headers).stream { bytes.append(contentsOf: $0.readableBytesView) }
        guard case .object(let object) = try JSONText.parse(bytes) else {
            throw CatalogError(.badRequest, "\(url) did not answer a JSON object.")
        }
        return object
    }

    /// Streams the body of `url` into `sink`, at most `cap` bytes; a fetch cancelled by shutdown
    /// fails with ``stopped(_:_:)``'s reason.
    private static func copy(
        _ url: String, with fetcher: ExternalFetcher, headers: [(String, String)] = [], cap: Int, into sink: UploadSink, what: String
    ) async throws {
        do {
            let opened = try await fetcher.open(url, cap: cap, headers: headers)
            _ = try await opened.stream { buffer in try await UploadBody.write(buffer, into: sink) }
        } catch {
            throw stopped(error, what)
        }
    }

    /// The error to record: a cancelled fetch says the server stopped.
    private static func stopped(_ error: any Error, _ what: String) -> any Error {
        guard Task.isCancelled else { return error }
        return CatalogError(.gone, "The server was stopped during \(what); import the image again.")
    }

    /// Runs `job` (which ends the import `task`) in the background until it ends or the server stops.
    private func run(_ what: String, task: String, logger: Logger, _ job: @escaping @Sendable () async -> TaskRecord?) {
        let key = UUID()
        running.withLock { state in
            let work = Task {
                if let ended = await job(), ended.status != "success" {
                    logger.warning("\(what) failed: \(ended.message)", metadata: ["image": "\(ended.imageID)", "task": "\(task)"])
                }
                _ = self.running.withLock { $0.tasks.removeValue(forKey: key) }
            }
            if state.stopping { work.cancel() }
            state.tasks[key] = work
        }
    }

    /// Waits for graceful shutdown, then cancels the fetches still running and waits for their
    /// imports to be failed.
    package func run() async throws {
        try? await gracefulShutdown()
        let tasks = running.withLock { state in
            state.stopping = true
            return Array(state.tasks.values)
        }
        for task in tasks { task.cancel() }
        for task in tasks { await task.value }
    }
}
