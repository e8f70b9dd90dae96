package import GranaryCatalog
package import GranaryFetch
import GranaryIndex

/// One external blob re-fetched: `ok`, `changed` (other size or sha256 than recorded) or
/// `unreachable`, with why.
package struct ExternalCheck: Sendable, Encodable {
    package let artifact: String
    package let type: String
    package let blob: String
    package let url: String
    package let status: String
    /// What changed or why it could not be fetched (not part of the JSON line).
    package let detail: String

    enum CodingKeys: String, CodingKey { case artifact, type, blob, url, status }
}

/// Re-fetches every external blob under the fetcher's rules and compares the bytes with what
/// was recorded when the location was set (`granary verify-external`, `POST /admin/verify-external`).
package enum ExternalVerifier {
    package static func verify(_ catalog: ArtifactCatalog, with fetcher: ExternalFetcher) async throws -> [ExternalCheck] {
        var checks: [ExternalCheck] = []
        for (artifact, slot, blob) in try catalog.externalBlobs() {
            guard let url = blob.url else { continue }
            var status = "ok"
            var detail = ""
            do {
                let fetched = try await fetcher.fetch(url, cap: Int.max)
                if fetched.sha256 != blob.sha256 || fetched.size != blob.size {
                    status = "changed"
                    detail = "now \(fetched.size) bytes, sha256 \(fetched.sha256); recorded \(blob.size ?? -1) bytes, sha256 \(blob.sha256 ?? "none")"
                }
            } catch {
                status = "unreachable"
                detail = "\(error)"
            }
            checks.append(
                ExternalCheck(artifact: artifact.id, type: artifact.typeName, blob: slot.description, url: url, status: status, detail: detail))
        }
        return checks
    }
}
