import Foundation

/// A Glance image as stored: every base attribute, custom properties, and the blob holding its data.
public struct ImageRecord: Codable, Sendable, Equatable {
    public var id: String
    public var name: String?
    public var status: ImageStatus
    public var visibility: ImageVisibility
    public var protected: Bool
    public var osHidden: Bool
    public var checksum: String?
    public var osHashAlgo: String?
    public var osHashValue: String?
    public var owner: String?
    public var size: Int?
    public var virtualSize: Int?
    public var containerFormat: String?
    public var diskFormat: String?
    public var minDisk: Int
    public var minRam: Int
    public var tags: [String]
    public var properties: [String: String]
    /// Seconds since 1970, UTC (Glance shows whole seconds).
    public var createdAt: Int
    public var updatedAt: Int
    /// The store blob holding the image data (64 hex digits), when there is data.
    public var blob: String?
    /// Data staged by `PUT /stage` and not yet imported (it holds a store reference of its own).
    public var staged: StagedData?

    public init(id: String, owner: String?, now: Int) {
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
public struct StagedData: Codable, Sendable, Equatable {
    public var blob: String
    public var size: Int
    public var checksum: String?
    public var osHashAlgo: String
    public var osHashValue: String?
    /// Seconds since 1970 when the stage was committed.
    public var stagedAt: Int
    /// What the format inspection found (absent in stages of older versions).
    public var virtualSize: Int?

    public init(blob: String, size: Int, checksum: String?, osHashAlgo: String, osHashValue: String?, stagedAt: Int, virtualSize: Int? = nil) {
        self.blob = blob
        self.size = size
        self.checksum = checksum
        self.osHashAlgo = osHashAlgo
        self.osHashValue = osHashValue
        self.stagedAt = stagedAt
        self.virtualSize = virtualSize
    }
}
