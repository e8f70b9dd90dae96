import Foundation
import GranaryStore

@testable import GranaryCatalog

/// An image catalog on a store in the fresh directory `path` (index commits not fsynced: the
/// catalog tests need no durability; the crash tests have their own stores).
func makeTestCatalog(at path: String, settings: ImagesSettings = ImagesSettings()) throws -> ImageCatalog {
    var storeSettings = StoreSettings()
    storeSettings.durableIndex = false
    return try ImageCatalog(store: BlobStore(directory: DataDirectory(path: path, access: .exclusive), settings: storeSettings), settings: settings)
}
