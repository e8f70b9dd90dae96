import Foundation
import GranaryCodec
import NIOCore
import Synchronization

/// What `granary bench upload` runs.
package struct UploadLoadOptions: Sendable {
    package var endpoint: GlanceEndpoint
    package var concurrency: Int
    package var size: Int
    package var count: Int
    package var dupRatio = 0.0
    package var seed: UInt64 = 1
    package var verifyDownload = false
    package var keep = false
    /// `Transfer-Encoding: chunked` instead of a Content-Length.
    package var chunked = false
    /// Where digests of generated objects persist between runs; nil keeps them in memory only.
    package var digestCache: DigestCache?

    package init(endpoint: GlanceEndpoint, concurrency: Int, size: Int, count: Int) {
        self.endpoint = endpoint
        self.concurrency = concurrency
        self.size = size
        self.count = count
    }
}

/// The upload load: `count` images created and uploaded, `concurrency` at a time, each checked
/// against what the server reports (`checksum`, `os_hash_value`, `size`); then, if asked, each
/// downloaded and its bytes' digest checked; then every image deleted unless `keep`.
///
/// Only create → upload → check is timed (the throughput); downloads are a phase of their own
/// (`download_mbps`), so one never muddles the other.
package struct UploadLoad: Sendable {
    package let options: UploadLoadOptions

    package init(_ options: UploadLoadOptions) {
        self.options = options
    }

    /// Runs the load. `progress` is called as bytes go out; `note` gets lines for the user
    /// (precompute time, the first message of each kind of error).
    package func run(
        progress: (@Sendable (LoadProgress) -> Void)? = nil, note: @Sendable (String) -> Void = { _ in }
    ) async -> UploadReport {
        let options = options
        let series = ImageSeries(seed: options.seed, size: options.size, count: options.count, dupRatio: options.dupRatio)
        let digests = await ObjectDigests.precompute(series, cache: options.digestCache)
        note(
            "precomputed digests of \(options.count) objects of \(options.size) bytes: \(digests.computed) computed, "
                + "\(options.count - digests.computed) from cache, in \(String(format: "%.2f", digests.seconds)) s")

        let run = UploadRun(options: options, series: series, digests: digests, progress: progress)
        let cpuStart = cpuSeconds()
        let start = ContinuousClock.now
        await run.createUploadAndCheck()
        let seconds = (ContinuousClock.now - start).seconds
        let cpu = cpuSeconds() - cpuStart

        run.checkDeferredDigests()
        var downloadSeconds = 0.0
        var downloadCPU = 0.0
        if options.verifyDownload {
            let downloadCPUStart = cpuSeconds()
            let downloadStart = ContinuousClock.now
            await run.downloadAndCheck()
            downloadSeconds = (ContinuousClock.now - downloadStart).seconds
            downloadCPU = cpuSeconds() - downloadCPUStart
        }
        if !options.keep { await run.deleteAll() }

        let recorder = run.recorder
        for line in recorder.errorLines { note(line) }
        let bytes = options.size * recorder.count(.upload)
        let uploaded = run.uploaded.withLock { $0.count }
        let downloaded = options.size * recorder.count(.download)
        return UploadReport(
            mbps: BenchJSON.round(seconds > 0 ? Double(bytes) / 1e6 / seconds : 0, 10),
            imagesPerSecond: BenchJSON.round(seconds > 0 ? Double(uploaded) / seconds : 0),
            bytes: bytes, count: options.count, concurrency: options.concurrency,
            createMs: recorder.summary(.create), uploadMs: recorder.summary(.upload), downloadMs: recorder.summary(.download),
            errors: recorder.errors, seconds: BenchJSON.round(seconds), imagesUploaded: uploaded,
            downloadMbps: BenchJSON.round(downloadSeconds > 0 ? Double(downloaded) / 1e6 / downloadSeconds : 0, 10),
            clientCPUSeconds: BenchJSON.round(cpu),
            clientCPUSecondsPerGB: BenchJSON.round(bytes > 0 ? cpu / (Double(bytes) / 1e9) : 0),
            downloadClientCPUSeconds: BenchJSON.round(downloadCPU), precomputeSeconds: BenchJSON.round(digests.seconds),
            osHashAlgo: run.osHashAlgo.withLock { $0 })
    }
}

/// One run's phases and what they share: the image ids by index, the images that passed the
/// check, and the recorder.
private final class UploadRun: Sendable {
    let options: UploadLoadOptions
    let series: ImageSeries
    let digests: Mutex<ObjectDigests>
    let progress: (@Sendable (LoadProgress) -> Void)?
    let recorder = LoadRecorder()
    let client: GlanceClient
    let runner: JobRunner
    let runID = String(UInt32.random(in: 0...UInt32.max), radix: 16)

    let ids: Mutex<[String?]>
    /// Indices of the images uploaded and reported right.
    let uploaded = Mutex<Set<Int>>([])
    /// (index, algorithm, reported value) of `os_hash_value`s whose algorithm was not precomputed.
    let deferred = Mutex<[(Int, DigestAlgorithm, String)]>([])
    let osHashAlgo = Mutex<String?>(nil)

    init(options: UploadLoadOptions, series: ImageSeries, digests: ObjectDigests, progress: (@Sendable (LoadProgress) -> Void)?) {
        self.options = options
        self.series = series
        self.digests = Mutex(digests)
        self.progress = progress
        client = GlanceClient(endpoint: options.endpoint)
        runner = JobRunner(endpoint: options.endpoint, concurrency: options.concurrency, recorder: recorder)
        ids = Mutex([String?](repeating: nil, count: options.count))
    }

    /// The timed phase: per image, create, upload, show and check.
    func createUploadAndCheck() async {
        await runner.run(count: options.count) { index in self.create(index) }
    }

    private func create(_ index: Int) -> JobStep {
        JobStep { connection in
            let began = ContinuousClock.now
            let id: String
            do {
                id = try await self.client.createImage(name: "granary-bench-\(self.runID)-\(index)", on: connection)
            } catch {
                self.recorder.fail(error)
                return nil
            }
            self.recorder.record(.create, ContinuousClock.now - began)
            self.ids.withLock { $0[index] = id }
            return self.upload(index, id)
        }
    }

    private func upload(_ index: Int, _ id: String) -> JobStep {
        JobStep { connection in
            let total = self.options.size * self.options.count
            var generator = self.series.generator(index)
            let began = ContinuousClock.now
            do {
                try await self.client.uploadFile(id: id, generator: &generator, chunked: self.options.chunked, on: connection) { n in
                    let sent = self.recorder.bytesSent.add(n, ordering: .relaxed).newValue
                    self.progress?(LoadProgress(phase: "upload", done: sent, total: total, errors: self.recorder.failures))
                }
            } catch {
                self.recorder.fail(error)
                return nil
            }
            self.recorder.record(.upload, ContinuousClock.now - began)
            return self.check(index, id)
        }
    }

    private func check(_ index: Int, _ id: String) -> JobStep {
        JobStep { connection in
            let expected = self.digests.withLock { $0.images[index] }
            do {
                let image = try await self.client.showImage(id: id, on: connection)
                if let name = image.osHashAlgo { self.osHashAlgo.withLock { $0 = name } }
                let later = try verify(image, size: self.options.size, expected: expected)
                if later.isEmpty {
                    self.uploaded.withLock { _ = $0.insert(index) }
                } else {
                    self.deferred.withLock { $0 += later.map { (index, $0, image.osHashValue ?? "") } }
                }
            } catch {
                self.recorder.fail(error)
            }
            return nil
        }
    }

    /// A server reporting a digest not precomputed (sha1, sha384) is checked after the clock stopped.
    func checkDeferredDigests() {
        for (index, algorithm, value) in deferred.withLock({ $0 }) {
            let want = digests.withLock { digests in
                digests.add(algorithm, series: series, for: [index])
                return digests.images[index][algorithm]
            }
            if want == value.lowercased() {
                uploaded.withLock { _ = $0.insert(index) }
            } else {
                recorder.fail(BenchError(.checksum, "image \(index): os_hash_value (\(algorithm)) \(value) is not the uploaded bytes' \(want ?? "")"))
            }
        }
    }

    /// Downloads every image that passed the check and compares its bytes' sha256 (the cheapest
    /// digest here) with the precomputed one.
    func downloadAndCheck() async {
        let expected = digests.withLock { $0 }
        let ids = ids.withLock { $0 }
        let indices = uploaded.withLock { $0.sorted() }
        let total = options.size * indices.count
        recorder.bytesSent.store(0, ordering: .relaxed)
        await runner.run(count: indices.count) { k in
            JobStep { connection in
                await self.download(indices[k], ids: ids, expected: expected, total: total, on: connection)
                return nil
            }
        }
    }

    private func download(_ index: Int, ids: [String?], expected: ObjectDigests, total: Int, on connection: HTTPConnection) async {
        guard let id = ids[index] else { return }
        let digest = StreamingDigest(.sha256)
        let began = ContinuousClock.now
        do {
            let bytes = try await self.client.downloadFile(id: id, on: connection) { buffer in
                buffer.withUnsafeReadableBytes { digest.update($0) }
                let done = self.recorder.bytesSent.add(buffer.readableBytes, ordering: .relaxed).newValue
                self.progress?(LoadProgress(phase: "download", done: done, total: total, errors: self.recorder.failures))
            }
            self.recorder.record(.download, ContinuousClock.now - began)
            guard bytes == self.options.size else {
                throw BenchError(.size, "image \(id): the download has \(bytes) bytes, \(self.options.size) were uploaded")
            }
            let got = digest.finalize().hex
            guard got == expected.images[index][.sha256] else {
                throw BenchError(.checksum, "image \(id): the downloaded bytes' sha256 \(got) is not the uploaded bytes'")
            }
        } catch {
            self.recorder.fail(error)
        }
    }

    /// Deletes every image created, whatever happened to it after.
    func deleteAll() async {
        let created = ids.withLock { $0.compactMap { $0 } }
        await runner.run(count: created.count) { k in
            JobStep { connection in
                do {
                    try await self.client.deleteImage(id: created[k], on: connection)
                } catch {
                    self.recorder.fail(error)
                }
                return nil
            }
        }
    }
}

/// Checks what the server reports of image `index` against the digests of the bytes sent;
/// returns the `os_hash_algo` to check later when its digest was not precomputed.
private func verify(_ image: ImageFields, size: Int, expected: [DigestAlgorithm: String]) throws(BenchError) -> [DigestAlgorithm] {
    if let reported = image.size, reported != size {
        throw BenchError(.size, "image \(image.id): the server reports size \(reported), \(size) bytes were uploaded")
    }
    if let checksum = image.checksum, checksum.lowercased() != expected[.md5] {
        throw BenchError(.checksum, "image \(image.id): checksum (md5) \(checksum) is not the uploaded bytes' \(expected[.md5] ?? "")")
    }
    guard let name = image.osHashAlgo, let value = image.osHashValue else { return [] }
    guard let algorithm = DigestAlgorithm(rawValue: name.lowercased()) else {
        throw BenchError(.protocolViolation, "image \(image.id): os_hash_algo '\(name)' is none of md5, sha1, sha256, sha384, sha512")
    }
    guard let want = expected[algorithm] else { return [algorithm] }
    if value.lowercased() != want {
        throw BenchError(.checksum, "image \(image.id): os_hash_value (\(algorithm)) \(value) is not the uploaded bytes' \(want)")
    }
    return []
}
