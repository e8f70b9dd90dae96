import GranaryObjectStore
package import GranaryStore
import NIOCore

extension Settings {
    /// Where the packs of this configuration live: the object stores of `stores`, built and
    /// checked here, and the one `file://` store, whose directory holds the local packs.
    ///
    /// #### Errors
    /// A ``SettingsError`` naming the key at fault: a url that does not parse, a store without
    /// the credentials its protocol needs, a `default_store` that is not configured.
    package func packPlacement() throws(SettingsError) -> PackPlacement {
        var placement = PackPlacement(cacheDirectory: cacheDirectory, cacheMaxBytes: cacheMaxBytes)
        var localID: String?
        for (id, store) in stores.sorted(by: { $0.key < $1.key }) {
            func required(_ value: String?, _ key: String) throws(SettingsError) -> String {
                guard let value, !value.isEmpty else { throw SettingsError("stores.\(id).\(key) is required for store \(id) (\(store.url))") }
                return value
            }
            let location: ObjectStoreLocation
            do {
                location = try ObjectStoreLocation(store.url)
            } catch {
                throw SettingsError("stores.\(id).url: \(error.description)")
            }
            switch location {
            case .directory(let path):
                if let localID { throw SettingsError("stores.\(id): only one file:// store is served (\(localID) is one)") }
                localID = id
                placement.localDirectory = path
            case .swift(let container):
                let credentials = SwiftObjectStore.Credentials(
                    authURL: try required(store.authURL, "auth_url"), user: try required(store.user, "user"), key: try required(store.key, "key"),
                    region: store.region)
                placement.objectStores[id] = SwiftObjectStore(container: container, credentials: credentials, timeout: .seconds(Int64(store.timeout)))
            case .s3(let endpoint, let bucket):
                let (accessKey, secretKey) = (try required(store.user, "user"), try required(store.key, "key"))
                do {
                    placement.objectStores[id] = try S3ObjectStore(
                        endpoint: endpoint, bucket: bucket, accessKey: accessKey, secretKey: secretKey, region: store.region ?? "us-east-1",
                        timeout: .seconds(Int64(store.timeout)))
                } catch {
                    throw SettingsError("stores.\(id).url: \(error.description)")
                }
            }
        }
        let target = defaultStore ?? (stores.count == 1 ? stores.keys.first : nil)
        if let target {
            guard stores[target] != nil else { throw SettingsError("default_store \(target) is not one of the configured stores") }
            placement.defaultStore = target == localID ? nil : target
        } else if !stores.isEmpty {
            throw SettingsError("default_store is required when several stores are configured")
        }
        return placement
    }
}
