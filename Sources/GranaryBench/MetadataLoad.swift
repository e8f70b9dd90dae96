import Synchronization

/// What `granary bench metadata` runs.
package struct MetadataLoadOptions: Sendable {
    package var endpoint: GlanceEndpoint
    package var count: Int
    package var concurrency: Int
    /// Full listings, each following `next` from the first page to the last.
    package var listPasses = 3
    package var pageLimit = 1000

    package init(endpoint: GlanceEndpoint, count: Int, concurrency: Int) {
        self.endpoint = endpoint
        self.count = count
        self.concurrency = concurrency
    }
}

/// The metadata load: rates of data-less image calls, each phase timed on its own —
/// `count` creates, `listPasses` full listings (run side by side, up to `concurrency`),
/// a PATCH adding a property to each image, a DELETE of each.
package struct MetadataLoad: Sendable {
    package let options: MetadataLoadOptions

    package init(_ options: MetadataLoadOptions) {
        self.options = options
    }

    package func run(
        progress: (@Sendable (LoadProgress) -> Void)? = nil, note: @Sendable (String) -> Void = { _ in }
    ) async -> MetadataReport {
        let options = options
        let recorder = LoadRecorder()
        let runner = JobRunner(endpoint: options.endpoint, concurrency: options.concurrency, recorder: recorder)
        let client = GlanceClient(endpoint: options.endpoint)
        let runID = String(UInt32.random(in: 0...UInt32.max), radix: 16)
        let cpuStart = cpuSeconds()

        /// Runs one phase of `jobs` jobs and returns its wall time in seconds.
        func phase(_ name: String, jobs: Int, _ start: @escaping @Sendable (Int) -> JobStep) async -> Double {
            let began = ContinuousClock.now
            await runner.run(
                count: jobs, finished: { done in progress?(LoadProgress(phase: name, done: done, total: jobs, errors: recorder.failures)) },
                start)
            return (ContinuousClock.now - began).seconds
        }
        /// A job of one timed call.
        @Sendable func call(_ operation: LoadOperation, _ body: @escaping @Sendable (HTTPConnection) async throws(BenchError) -> Void) -> JobStep {
            JobStep { connection in
                let began = ContinuousClock.now
                do {
                    try await body(connection)
                    recorder.record(operation, ContinuousClock.now - began)
                } catch {
                    recorder.fail(error)
                }
                return nil
            }
        }

        let ids = Mutex([String?](repeating: nil, count: options.count))
        let createSeconds = await phase("create", jobs: options.count) { index in
            call(.create) { connection throws(BenchError) in
                let id = try await client.createImage(name: "granary-bench-meta-\(runID)-\(index)", on: connection)
                ids.withLock { $0[index] = id }
            }
        }
        let created = ids.withLock { $0.compactMap { $0 } }
        let createdSet = Set(created)

        /// A full listing, one page a step, from `link` (nil: the first page) on.
        @Sendable func listing(from link: String?, seen: Set<String>) -> JobStep {
            JobStep { connection in
                let began = ContinuousClock.now
                let page: (ids: [String], next: String?)
                do {
                    page = try await client.listPage(link, limit: options.pageLimit, on: connection)
                } catch {
                    recorder.fail(error)
                    return nil
                }
                recorder.record(.list, ContinuousClock.now - began)
                let seen = seen.union(page.ids)
                if let next = page.next { return listing(from: next, seen: seen) }
                let missing = createdSet.subtracting(seen).count
                if missing > 0 {
                    recorder.fail(
                        BenchError(.missingFromList, "a full listing lacked \(missing) of the \(createdSet.count) images created"),
                        count: missing)
                }
                return nil
            }
        }
        let listSeconds = await phase("list", jobs: options.listPasses) { _ in listing(from: nil, seen: []) }
        let patchSeconds = await phase("patch", jobs: created.count) { k in
            call(.patch) { connection throws(BenchError) in
                try await client.addProperty(id: created[k], name: "granary_bench", value: "patched", on: connection)
            }
        }
        let deleteSeconds = await phase("delete", jobs: created.count) { k in
            call(.delete) { connection throws(BenchError) in try await client.deleteImage(id: created[k], on: connection) }
        }
        let cpu = cpuSeconds() - cpuStart
        for line in recorder.errorLines { note(line) }

        func rate(_ operation: LoadOperation, _ seconds: Double) -> Double {
            BenchJSON.round(seconds > 0 ? Double(recorder.count(operation)) / seconds : 0, 10)
        }
        return MetadataReport(
            createsPerSecond: rate(.create, createSeconds), listsPerSecond: rate(.list, listSeconds),
            patchesPerSecond: rate(.patch, patchSeconds), deletesPerSecond: rate(.delete, deleteSeconds),
            count: options.count, concurrency: options.concurrency,
            createMs: recorder.summary(.create), listMs: recorder.summary(.list), patchMs: recorder.summary(.patch),
            deleteMs: recorder.summary(.delete), errors: recorder.errors, listPages: recorder.count(.list),
            listPasses: options.listPasses, clientCPUSeconds: BenchJSON.round(cpu))
    }
}
