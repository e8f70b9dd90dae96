/// Glance's image import methods (`method.name` of `POST /v2/images/{id}/import`) that Granary
/// serves; which are offered is a setting (``ImagesSettings/importMethods``).
package enum ImportMethod: String, CaseIterable, Sendable {
    /// The data was staged (`PUT …/stage`); the import makes it the image's.
    case glanceDirect = "glance-direct"
    /// The server fetches the image from a URI.
    case webDownload = "web-download"
    /// The server fetches the image from another region's Glance, found in the caller's
    /// Keystone catalog (served with Keystone auth only).
    case glanceDownload = "glance-download"
}
