import Dispatch
package import GranaryCodec
import GranaryLMDB
import Synchronization

/// One upload streaming into the store: bytes in, a ``StagedBlob`` out.
///
/// The producer (an HTTP handler, a file reader) fills slabs with ``fill(_:)`` and ends with
/// ``finish()`` or ``abort()``. Each slab then flows through two serial lanes, one core each:
///
/// - lane A: content-defined chunking, SHA-256 of its share of the chunks, its whole-object digests;
/// - lane B: its whole-object digests, SHA-256 of the other chunks, then, in stream order, the
///   sink: all-zero chunks become markers, known live chunks are referenced, new ones are
///   appended to a leased pack (compressed when the policy says inline).
///
/// The split (``LanePlan``) is computed from measured per-byte costs so both lanes carry about
/// half the work. Lane A hands chunks to lane B only after hashing its share, so B never waits.
/// Nothing is referenced until ``BlobStore/commit(_:)`` makes it durable in one LMDB transaction.
package final class IngestSession: @unchecked Sendable {
    // Safe because of a strict ownership discipline: producer state is touched only by the one
    // task calling fill/finish/abort (sequentially), lane A state only on `laneA`, lane B state
    // only on `laneB`; the lanes hand work over by enqueueing, which orders memory.
    let store: BlobStore
    let requestedDigests: [DigestAlgorithm]
    private let plan: LanePlan
    private let pool: SlabPool
    private let laneA = DispatchQueue(label: "granary.ingest.lane-a", qos: .userInitiated)
    private let laneB = DispatchQueue(label: "granary.ingest.lane-b", qos: .userInitiated)
    private let failure = Mutex<StoreFailure?>(nil)
    private let startTime = DispatchTime.now()

    // Producer.
    /// The session's registration (see ``SessionTicket``), from the first byte until it ends.
    private(set) var ticket: SessionTicket?
    private var current: Slab?
    private var totalBytes = 0
    private var ended = false

    // Lane A.
    private var chunker: GearChunker
    /// The chunk still open at the end of the last slab scanned.
    private var carry: ChunkSpan?
    private var previousSlab: Slab?
    private let digestsA: [StreamingDigest]
    private let chunkHashesA = PairedSHA256()
    /// Fraction of chunk bytes lane A hashes; starts from the plan, then follows measured load.
    private var share: Double
    /// Error diffusion of `share` over chunks: bytes lane A still owes.
    private var credit = 0.0
    private var lastBusyA = 0
    private var lastBusyB = 0
    /// Nanoseconds each lane has worked (lane B's is read by lane A to rebalance).
    private let busyA = Atomic<Int>(0)
    private let busyB = Atomic<Int>(0)

    // Lane B.
    private let digestsB: [StreamingDigest]
    /// A requested whole-object SHA-256 (always lane B's, see ``LanePlan``): fed in the sink,
    /// beside the chunk hashes lane A left, two streams at once.
    private let wholeSHA256: SHA256Stream?
    private let chunkHashesB = PairedSHA256()
    fileprivate var manifest = Manifest()
    fileprivate var written: [SHA256Key: WrittenChunk] = [:]
    fileprivate var packs: [OpenPack] = []
    /// The PUTs of sealed packs, when packs go to an object store; `packs[..<sentPacks]` are sent.
    private let uploads: PackUploads?
    private var sentPacks = 0
    fileprivate var newChunks = 0
    fileprivate var bytesWritten = 0
    private let compressor: ZstdCompressor?
    /// New chunks in a row that did not compress: already-compressed content (qcow2 with
    /// compressed clusters, tarballs) costs a zstd attempt per chunk for nothing, so after
    /// ``IngestSession/giveUpAfter`` of them a chunk is tried only once
    /// ``IngestSession/probeBytes`` have gone by untried, until one compresses again.
    private var incompressibleRun = 0
    private var untriedBytes = 0
    static let giveUpAfter = 8
    static let probeBytes = 1 << 20
    fileprivate var compressionAttempts = 0
    private var scratchRaw: UnsafeMutableRawBufferPointer?
    private var scratchCompressed: UnsafeMutableRawBufferPointer?

    init(store: BlobStore, digests: [DigestAlgorithm], costs: PassCosts) {
        self.store = store
        self.requestedDigests = digests
        let plan = LanePlan.make(digests: digests, costs: costs)
        self.plan = plan
        self.share = plan.chunkShareA
        self.pool = SlabPool(count: store.settings.slabsPerUpload, capacity: store.settings.slabSize)
        self.chunker = GearChunker(parameters: store.settings.chunker)
        self.digestsA = plan.laneA.map(StreamingDigest.init)
        self.digestsB = plan.laneB.filter { $0 != .sha256 }.map(StreamingDigest.init)
        self.wholeSHA256 = plan.laneB.contains(.sha256) ? SHA256Stream() : nil
        self.uploads = store.writesTo.map(PackUploads.init)
        self.compressor = store.settings.compression == .inline ? ZstdCompressor(level: store.settings.zstdLevel) : nil
        if compressor != nil {
            let maxChunk = store.settings.chunker.maxSize
            scratchRaw = .allocate(byteCount: maxChunk, alignment: 64)
            scratchCompressed = .allocate(byteCount: ZstdCompressor.maxCompressedSize(maxChunk), alignment: 64)
        }
    }

    deinit {
        // A staged upload that was dropped without commit or abort still ends its session.
        if let ticket { store.endSessionDetached(ticket) }
        scratchRaw?.deallocate()
        scratchCompressed?.deallocate()
    }

    // MARK: Producer

    /// Lends free space of the current slab to `body`, which copies bytes in and returns how
    /// many. Waits while every slab is in flight (backpressure).
    ///
    /// #### Errors
    /// Rethrows the first error of either lane (a full disk, say): stop sending and ``abort()``.
    @discardableResult
    package func fill(_ body: (UnsafeMutableRawBufferPointer) throws -> Int) async throws -> Int {
        precondition(!ended, "fill after finish or abort")
        try throwIfFailed()
        if ticket == nil { ticket = try await store.registerSession() }
        if current == nil { current = await pool.acquire() }
        guard let slab = current else { return 0 }
        let space = UnsafeMutableRawBufferPointer(rebasing: slab.storage[slab.count...])
        let n = try body(space)
        precondition(n >= 0 && n <= space.count, "fill returned \(n) for \(space.count) bytes of room")
        slab.count += n
        totalBytes += n
        if slab.isFull {
            current = nil
            submit(slab, isLast: false)
        }
        return n
    }

    /// Copies `bytes` in (convenience over ``fill(_:)``).
    package func write(_ bytes: [UInt8]) async throws {
        var offset = 0
        while offset < bytes.count {
            offset += try await fill { space in
                let n = min(space.count, bytes.count - offset)
                bytes.withUnsafeBytes { space.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[offset..<(offset + n)])) }
                return n
            }
        }
    }

    /// Ends the stream, waits for both lanes and makes the written chunks durable (fdatasync).
    /// The result is referenced by nothing until it is committed.
    package func finish() async throws -> StagedBlob {
        precondition(!ended, "finish called twice")
        ended = true
        let last: Slab
        if let current {
            last = current
        } else {
            last = await pool.acquire()
        }
        current = nil
        submit(last, isLast: true)
        await drainLanes(syncPacks: true)
        if let uploads, !hasFailed {
            // The end of the upload seals its last pack: every pack is sent before the commit.
            for pack in packs[sentPacks...] { await uploads.send(pack) }
            sentPacks = packs.count
            do {
                try await uploads.finish()
            } catch {
                fail(error)
            }
        }
        if let failure = failure.withLock({ $0 }) {
            await releasePacks(committed: false)
            await endSession()
            throw failure.error
        }
        var digests: [DigestAlgorithm: Digest] = [:]
        for digest in digestsA + digestsB { digests[digest.algorithm] = digest.finalize() }
        if let wholeSHA256 { digests[.sha256] = wholeSHA256.finalize() }
        return StagedBlob(session: self, size: totalBytes, digests: digests, seconds: secondsSinceStart)
    }

    /// Gives up: waits for the lanes, then cuts the session's appends off its packs.
    package func abort() async {
        guard !ended else { return }
        ended = true
        failure.withLock { $0 = $0 ?? StoreFailure(error: StoreError(.invalidArgument, "upload aborted")) }
        if let slab = current {
            current = nil
            submit(slab, isLast: true)
        }
        await drainLanes(syncPacks: false)
        await releasePacks(committed: false)
        await endSession()
    }

    /// Unregisters the session (after a failure; a commit ends it in its own transaction).
    func endSession() async {
        guard let ticket else { return }
        self.ticket = nil
        await store.endSession(ticket)
    }

    /// Records that the commit transaction ended the session.
    func sessionEndedByCommit() { ticket = nil }

    /// Wall time since the session began (just before its first byte).
    var secondsSinceStart: Double {
        Double(DispatchTime.now().uptimeNanoseconds - startTime.uptimeNanoseconds) / 1e9
    }

    private func throwIfFailed() throws {
        if let failure = failure.withLock({ $0 }) { throw failure.error }
    }

    private func fail(_ error: any Error) {
        failure.withLock { $0 = $0 ?? StoreFailure(error: error) }
    }

    private var hasFailed: Bool { failure.withLock { $0 != nil } }

    private func submit(_ slab: Slab, isLast: Bool) {
        laneB.async { self.updateDigestsB(slab) }
        laneA.async { self.processA(slab, isLast: isLast) }
    }

    /// Waits until both lanes have done everything enqueued so far; releases the last slab and,
    /// when asked, fdatasyncs the packs written to (on lane B, off the caller's thread).
    private func drainLanes(syncPacks: Bool) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            laneA.async {
                let previous = self.previousSlab
                self.previousSlab = nil
                self.laneB.async {
                    if let previous { self.pool.release(previous) }
                    if syncPacks && !self.hasFailed {
                        do {
                            for pack in self.packs { try pack.appender.flushAndSync() }
                        } catch {
                            self.fail(error)
                        }
                    }
                    continuation.resume()
                }
            }
        }
    }

    /// Hands the session's packs back once it committed or failed. Local packs go back to the
    /// pack set for later appends; sent packs are sealed: committed, their spool file becomes
    /// this node's cached copy; failed, it is removed and so are the objects already sent
    /// (in the background: whatever a dead store keeps, the orphan sweep removes later).
    func releasePacks(committed: Bool) async {
        let packs = self.packs
        self.packs = []
        guard let target = store.writesTo else {
            for pack in packs { store.packs.giveBack(pack, committed: committed) }
            return
        }
        guard committed else {
            for pack in packs { store.spool.giveBack(pack, committed: false) }
            if let uploads { Task.detached { await uploads.removeSent() } }
            return
        }
        for pack in packs { await store.settleSentPack(pack, in: target) }
    }

    // MARK: Lane A

    private func processA(_ slab: Slab, isLast: Bool) {
        let started = DispatchTime.now().uptimeNanoseconds
        defer { busyA.add(Int(DispatchTime.now().uptimeNanoseconds - started), ordering: .relaxed) }
        let previous = previousSlab
        previousSlab = slab
        guard !hasFailed else {
            laneB.async { if let previous { self.pool.release(previous) } }
            return
        }
        var chunks: [ChunkSpan] = []
        let bytes = slab.bytes
        var position = 0
        while let end = chunker.nextBoundary(in: bytes, from: position) {
            if let open = carry {
                // The chunk began in the previous slab (the maximum chunk is smaller than a slab).
                chunks.append(ChunkSpan(first: open.first, firstRange: open.firstRange, second: slab, secondRange: 0..<end))
                carry = nil
            } else {
                chunks.append(ChunkSpan(first: slab, firstRange: position..<end))
            }
            position = end
        }
        if position < bytes.count {
            if var open = carry {
                // Only the short last slab can end a chunk that began a slab earlier without a boundary.
                precondition(isLast, "a chunk spans more than two slabs")
                open.second = slab
                open.secondRange = 0..<bytes.count
                carry = open
            } else {
                carry = ChunkSpan(first: slab, firstRange: position..<bytes.count)
            }
        }
        if isLast, let open = carry {
            chunks.append(open)
            carry = nil
        }
        rebalance()
        hashKeys(of: &chunks, chunks.indices.filter { assignToA(chunks[$0].length) }, with: chunkHashesA)
        let ready = chunks
        laneB.async {
            // The slab stays until the sink of the next one has run (`previousSlab`).
            self.sink(ready, slabBytes: slab.bytes)
            if let previous { self.pool.release(previous) }
        }
        for digest in digestsA { digest.update(bytes) }
    }

    private func assignToA(_ length: Int) -> Bool {
        credit += share * Double(length)
        guard credit >= Double(length) / 2 else { return false }
        credit -= Double(length)
        return true
    }

    /// Moves chunk hashing toward the lane that worked less since the last look. The plan's
    /// costs are estimates: dedup hits cost lane B nothing, the producer shares the cores, and
    /// the machine is noisy, so the split follows what the lanes actually spend.
    private func rebalance() {
        let a = busyA.load(ordering: .relaxed)
        let b = busyB.load(ordering: .relaxed)
        let da = a - lastBusyA
        let db = b - lastBusyB
        guard da + db >= 4_000_000 else { return }
        share = min(1, max(0, share + 0.5 * Double(db - da) / Double(da + db)))
        lastBusyA = a
        lastBusyB = b
    }

    /// Sets the key of each chunk at `indices`: all-zero chunks get the zero key, the others'
    /// SHA-256 is computed two at a time, beside `stream` fed with `streamBytes` when given.
    private func hashKeys(
        of chunks: inout [ChunkSpan], _ indices: [Int], with hashes: PairedSHA256,
        alongside stream: SHA256Stream? = nil, streamBytes: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0)
    ) {
        var hashed: [Int] = []
        for index in indices {
            if chunks[index].isAllZero {
                chunks[index].key = .zero
            } else {
                hashed.append(index)
            }
        }
        guard !hashed.isEmpty || stream != nil else { return }
        let out = UnsafeMutableRawBufferPointer.allocate(byteCount: hashed.count * 32, alignment: 8)
        defer { out.deallocate() }
        hashes.digests(of: hashed.map { chunks[$0].segments }, into: out, alongside: stream, streamBytes: streamBytes)
        for (n, index) in hashed.enumerated() {
            chunks[index].key = SHA256Key(UnsafeRawBufferPointer(rebasing: out[(n * 32)..<(n * 32 + 32)]))
        }
    }

    // MARK: Lane B

    private func updateDigestsB(_ slab: Slab) {
        guard !hasFailed else { return }
        let started = DispatchTime.now().uptimeNanoseconds
        defer { busyB.add(Int(DispatchTime.now().uptimeNanoseconds - started), ordering: .relaxed) }
        let bytes = slab.bytes
        for digest in digestsB { digest.update(bytes) }
    }

    /// In stream order: hash what lane A left (beside the whole-object SHA-256 of the slab the
    /// chunks end in, when asked for), then reference or store each chunk.
    private func sink(_ handed: [ChunkSpan], slabBytes: UnsafeRawBufferPointer) {
        guard !hasFailed, !handed.isEmpty || wholeSHA256 != nil else { return }
        let started = DispatchTime.now().uptimeNanoseconds
        defer { busyB.add(Int(DispatchTime.now().uptimeNanoseconds - started), ordering: .relaxed) }
        var chunks = handed
        hashKeys(of: &chunks, chunks.indices.filter { chunks[$0].key == nil }, with: chunkHashesB, alongside: wholeSHA256, streamBytes: slabBytes)
        do {
            try store.environment.read { txn in
                for chunk in chunks {
                    let key = chunk.key!  // hashKeys gave every chunk one
                    manifest.append(key, length: chunk.length)
                    if key == .zero || written[key] != nil { continue }
                    let live = try key.withBytes { k in
                        try txn.withValue(store.keyspace.chunks, k) { try ChunkRow($0).refcount > 0 }
                    }
                    if live == true { continue }
                    try storeChunk(chunk, key: key)
                }
            }
        } catch {
            fail(error)
        }
    }

    private func currentPack() throws -> OpenPack {
        if let pack = packs.last {
            if pack.writeOffset < store.settings.packSizeLimit { return pack }
            // A full pack is made durable now and lets go of its buffers; it commits with the
            // rest. Bound for an object store, it is sealed and sent now, while ingest goes on.
            try pack.appender.flushAndSync()
            pack.appender.releaseBuffers()
            if let uploads {
                try uploads.sendWaiting(pack)
                sentPacks = packs.count
            }
        }
        let pack = try store.leasePack(for: store.writesTo)
        packs.append(pack)
        return pack
    }

    /// Appends one record (header + stored bytes) to the session's pack.
    private func storeChunk(_ chunk: ChunkSpan, key: SHA256Key) throws {
        let pack = try currentPack()
        var segments = chunk.segments
        var codec = store.settings.compression == .deferred ? ChunkCodec.rawDeferred : .raw
        let tryIt = incompressibleRun < Self.giveUpAfter || untriedBytes >= Self.probeBytes
        if !tryIt { untriedBytes += chunk.length }
        if let compressor, let scratchRaw, let scratchCompressed, tryIt {
            compressionAttempts += 1
            untriedBytes = 0
            let contiguous: UnsafeRawBufferPointer
            if segments.count == 1 {
                contiguous = segments[0]
            } else {
                var offset = 0
                for segment in segments {
                    UnsafeMutableRawBufferPointer(rebasing: scratchRaw[offset..<(offset + segment.count)]).copyMemory(from: segment)
                    offset += segment.count
                }
                contiguous = UnsafeRawBufferPointer(rebasing: scratchRaw[0..<offset])
            }
            if let n = ChunkCompression.attempt(contiguous, with: compressor, into: scratchCompressed) {
                codec = .zstd
                segments = [UnsafeRawBufferPointer(rebasing: scratchCompressed[0..<n])]
            }
        }
        incompressibleRun = codec == .zstd ? 0 : incompressibleRun + 1
        let storedLength = segments.reduce(0) { $0 + $1.count }
        let offset = pack.writeOffset
        try pack.appender.appendRecord(headerSize: PackFormat.recordHeaderSize, data: segments) { crc, header in
            RecordHeader(codec: codec, rawLength: chunk.length, storedLength: storedLength, sha256: key, storedCRC: crc).encode(into: header)
        }
        written[key] = WrittenChunk(packID: pack.id, offset: offset, storedLength: storedLength, rawLength: chunk.length, codec: codec)
        newChunks += 1
        bytesWritten += PackFormat.recordHeaderSize + storedLength
    }
}

/// A chunk this session appended to a pack.
struct WrittenChunk {
    var packID: UInt32
    var offset: Int
    var storedLength: Int
    var rawLength: Int
    var codec: ChunkCodec
    var recordSize: Int { PackFormat.recordHeaderSize + storedLength }
}

/// An error from a lane, kept until the producer sees it.
struct StoreFailure: @unchecked Sendable {
    // Safe because errors are immutable values once thrown.
    let error: any Error
}

/// An upload whose bytes are durable but not yet referenced: commit it to make it a blob.
package final class StagedBlob: @unchecked Sendable {
    // Safe because a staged blob is committed once, by one caller, after its session ended.
    let session: IngestSession
    package let size: Int
    package let digests: [DigestAlgorithm: Digest]
    /// Wall time from the first byte to the end of fdatasync.
    package let seconds: Double
    var committed = false

    init(session: IngestSession, size: Int, digests: [DigestAlgorithm: Digest], seconds: Double) {
        self.session = session
        self.size = size
        self.digests = digests
        self.seconds = seconds
    }

    var manifest: Manifest { session.manifest }
    var written: [SHA256Key: WrittenChunk] { session.written }
    var packs: [OpenPack] { session.packs }
    /// The object store the session's packs were sent to; nil: they are local.
    var packStore: String? { session.store.writesTo?.id }
    package var chunkCount: Int { session.manifest.count }
    package var newChunks: Int { session.newChunks }
    package var bytesWritten: Int { session.bytesWritten }
    /// New chunks zstd was tried on (inline compression; see ``IngestSession/giveUpAfter``).
    package var compressionAttempts: Int { session.compressionAttempts }
    package var blobID: SHA256Key { session.manifest.blobID }
}
