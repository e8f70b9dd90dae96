import GranaryCodec
import GranaryLMDB
import GranaryStore

/// Where an upload's bytes go: counts them against the size cap on the way into the store.
package final class UploadSink: @unchecked Sendable {
    // Safe because one upload task feeds a sink, sequentially.
    let session: IngestSession
    let cap: Int
    /// What the cap is, for the 413 (`image_size_cap`, a blob field's limit, …).
    let limit: String
    package private(set) var received = 0
    /// The first bytes (up to ``InspectedImage/headLength``), for the format inspection.
    package private(set) var head: [UInt8] = []

    init(session: IngestSession, cap: Int, limit: String) {
        self.session = session
        self.cap = cap
        self.limit = limit
    }

    /// Lends free ingest space to `body`, which copies bytes in and returns how many.
    package func fill(_ body: (UnsafeMutableRawBufferPointer) throws -> Int) async throws {
        let n = try await session.fill { space in
            let n = try body(space)
            if head.count < InspectedImage.headLength {
                head.append(contentsOf: UnsafeRawBufferPointer(rebasing: space[0..<min(n, InspectedImage.headLength - head.count)]))
            }
            return n
        }
        received += n
        if received > cap {
            throw CatalogError(.payloadTooLarge, "The upload is larger than \(limit) (\(cap) bytes).")
        }
    }
}

extension BlobStore {
    /// Streams `feed` through a new ingest session (computing `digests`, counted against
    /// `cap`) and commits the blob together with `work`; on any failure nothing is referenced.
    /// - Parameter declaredSize: the size the client announced; a different byte count is a 400.
    func receiveUpload<R: Sendable>(
        digests: [DigestAlgorithm], cap: Int, limit: String, declaredSize: Int?, feed: (UploadSink) async throws -> Void,
        alongWith work: @escaping @Sendable (borrowing WriteTransaction, BlobInfo) throws -> R
    ) async throws -> R {
        let session = beginIngest(digests: digests)
        let sink = UploadSink(session: session, cap: cap, limit: limit)
        do {
            try await feed(sink)
            if let declaredSize, declaredSize != sink.received {
                throw CatalogError(.badRequest, "Size of uploaded data (\(sink.received)) differs from the declared size (\(declaredSize)).")
            }
            return try await commit(try await session.finish(), alongWith: work).1
        } catch {
            await session.abort()
            throw error
        }
    }
}
