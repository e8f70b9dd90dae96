import Foundation

/// A Glance image as stored: every base attribute, custom properties, and the blob holding its data.
package struct ImageRecord: Codable, Sendable, Equatable {
    package var id: String
    package var name: String?
    package var status: ImageStatus
    package var visibility: ImageVisibility
    package var protected: Bool
    package var osHidden: Bool
    package var checksum: String?
    package var osHashAlgo: String?
    package var osHashValue: String?
    package var owner: String?
    package var size: Int?
    package var virtualSize: Int?
    package var containerFormat: String?
    package var diskFormat: String?
    package var minDisk: Int
    package var minRam: Int
    package var tags: [String]
    package var properties: [String: String]
    /// Seconds since 1970, UTC (Glance shows whole seconds).
    package var createdAt: Int
    package var updatedAt: Int
    /// The store blob holding the image data (64 hex digits), when there is data.
    package var blob: String?
    /// Data staged by `PUT /stage` and not yet imported (it holds a store reference of its own).
    package var staged: StagedData?

    package init(id: String, owner: String?, now: Int) {
        self.id = id
        self.name = nil
        self.status = .queued
        self.visibility = .shared
        self.protected = false
        self.osHidden = false
        self.owner = owner
        self.minDisk = 0
        self.minRam = 0
        self.tags = []
        self.properties = [:]
        self.createdAt = now
        self.updatedAt = now
    }

    func encoded() throws -> [UInt8] {
        Array(try JSONEncoder().encode(self))
    }

    /// For what ``ImageRecordReader`` does not handle.
    static let decoder = JSONDecoder()

    /// A list page decodes up to a thousand records: ``ImageRecordReader`` reads those
    /// `encoded()` wrote, `JSONDecoder` (the format's definition) anything else.
    static func decode(_ bytes: UnsafeRawBufferPointer) throws -> ImageRecord {
        if let record = ImageRecordReader.read(bytes) { return record }
        return try decoder.decode(ImageRecord.self, from: Data(bytes))
    }
}

/// Data staged for an interoperable import: the blob and what the upload computed, so that
/// the import is a metadata change and a stale stage can be found and released.
package struct StagedData: Codable, Sendable, Equatable {
    package var blob: String
    package var size: Int
    package var checksum: String?
    package var osHashAlgo: String
    package var osHashValue: String?
    /// Seconds since 1970 when the stage was committed.
    package var stagedAt: Int
    /// What the format inspection found (absent in stages of older versions).
    package var virtualSize: Int?

    package init(blob: String, size: Int, checksum: String?, osHashAlgo: String, osHashValue: String?, stagedAt: Int, virtualSize: Int? = nil) {
        self.blob = blob
        self.size = size
        self.checksum = checksum
        self.osHashAlgo = osHashAlgo
        self.osHashValue = osHashValue
        self.stagedAt = stagedAt
        self.virtualSize = virtualSize
    }
}
