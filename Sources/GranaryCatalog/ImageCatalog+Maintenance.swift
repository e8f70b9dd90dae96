import GranaryIndex
import GranaryLMDB
package import GranaryStore

extension ImageCatalog {
    /// Which images hold which store blob (their data and their staged data): what fsck marks
    /// from, above the store.
    package func dataHolders() throws -> (images: Int, holders: [SHA256Key: [String]]) {
        try store.environment.read { txn in
            var images = 0
            var holders: [SHA256Key: [String]] = [:]
            try index.newestFirst(after: nil, in: txn) { image in
                images += 1
                for blob in [image.blob, image.staged?.blob].compactMap({ $0.flatMap(SHA256Key.init(hex:)) }) {
                    holders[blob, default: []].append(image.id)
                }
                return true
            }
            return (images, holders)
        }
    }
}
