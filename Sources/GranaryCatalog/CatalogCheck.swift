package import GranaryStore

/// What fsck checks above the store: every blob an image or artifact holds exists and counts
/// at least its holders (a lower count would free data that records still use).
package struct CatalogCheck: Sendable {
    /// Image and artifact records marked from.
    package var records = 0
    /// Images among ``records``.
    package var images = 0
    /// Problems, one sentence each, naming the records and the blob.
    package var errors: [String] = []
    /// What repair changed.
    package var repaired: [String] = []

    /// Marks from every image and artifact to its blobs in `store`; with `repair`, raises counts
    /// that are too low (never lowers one: holders the catalogs cannot see would lose their data).
    package static func run(on store: BlobStore, repair: Bool = false) async throws -> CatalogCheck {
        var check = CatalogCheck()
        let (images, imageHolders) = try ImageCatalog(store: store).dataHolders()
        let artifactHolders = try ArtifactCatalog(store: store).dataHolders()
        var holders = imageHolders.mapValues { $0.map { "image " + $0 } }
        for (blob, ids) in artifactHolders { holders[blob, default: []] += ids.map { "artifact " + $0 } }
        for (blob, ids) in holders.sorted(by: { $0.key < $1.key }) {
            guard let info = try store.info(blob) else {
                check.errors.append("\(ids.joined(separator: ", ")) hold\(ids.count > 1 ? "" : "s") blob \(blob), which is missing")
                continue
            }
            if info.refcount < ids.count {
                if repair, try await store.raiseHolders(blob, to: ids.count) {
                    check.repaired.append("blob \(blob) now counts its \(ids.count) holders")
                } else {
                    check.errors.append("blob \(blob) is held by \(ids.count) records but counts \(info.refcount) holders")
                }
            }
        }
        check.images = images
        check.records = images + Set(artifactHolders.values.joined()).count
        return check
    }
}
