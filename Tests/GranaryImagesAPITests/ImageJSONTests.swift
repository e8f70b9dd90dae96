import Foundation
import GranaryHTTP
import GranaryIndex
import Testing

@testable import GranaryImagesAPI

/// The hand-written image JSON against what Foundation makes of the same record.
@Suite struct ImageJSONTests {
    /// The reference: Glance's serializer (Glance: glance/api/v2/images.py, `get_base_properties`) as a dictionary.
    static func expected(_ image: ImageRecord) -> NSDictionary {
        var object: [String: Any] = image.properties
        func nullable(_ value: Any?) -> Any { value ?? NSNull() }
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        object["id"] = image.id
        object["name"] = nullable(image.name)
        object["status"] = image.status.rawValue
        object["visibility"] = image.visibility.rawValue
        object["protected"] = image.protected
        object["os_hidden"] = image.osHidden
        object["checksum"] = nullable(image.checksum)
        object["os_hash_algo"] = nullable(image.osHashAlgo)
        object["os_hash_value"] = nullable(image.osHashValue)
        object["owner"] = nullable(image.owner)
        object["size"] = nullable(image.size)
        object["virtual_size"] = nullable(image.virtualSize)
        object["container_format"] = nullable(image.containerFormat)
        object["disk_format"] = nullable(image.diskFormat)
        object["min_disk"] = image.minDisk
        object["min_ram"] = image.minRam
        object["tags"] = image.tags
        object["created_at"] = formatter.string(from: Date(timeIntervalSince1970: TimeInterval(image.createdAt)))
        object["updated_at"] = formatter.string(from: Date(timeIntervalSince1970: TimeInterval(image.updatedAt)))
        object["self"] = "/v2/images/\(image.id)"
        object["file"] = "/v2/images/\(image.id)/file"
        object["schema"] = "/v2/schemas/image"
        return object as NSDictionary
    }

    @Test func imagesMatchFoundationsEncoding() throws {
        var plain = ImageRecord(id: "0b2f6c2e-3b1d-4a57-9d0b-2c3d4e5f6a7b", owner: nil, now: 0)
        var full = ImageRecord(id: "1b2f6c2e-3b1d-4a57-9d0b-2c3d4e5f6a7b", owner: "p1", now: 1_764_620_000)
        full.name = "quote \" backslash \\ slash / newline \n tab \t bell \u{7} ünïcode 🚀"
        full.status = .active
        full.size = 1 << 40
        full.virtualSize = 12
        full.checksum = "d41d8cd98f00b204e9800998ecf8427e"
        full.osHashAlgo = "sha512"
        full.osHashValue = String(repeating: "ab", count: 64)
        full.diskFormat = "raw"
        full.containerFormat = "bare"
        full.protected = true
        full.osHidden = true
        full.minDisk = 3
        full.minRam = 512
        full.tags = ["a", "b\"c", ""]
        full.properties = ["os_distro": "cirros", "zzz": "last", "aaa": "first", "hw_\u{1}ctl": "x\u{1F}y"]
        full.updatedAt = 2_000_000_000
        plain.updatedAt = 59
        for image in [plain, full] {
            let bytes = ImageJSON.bytes(image)
            let parsed = try JSONSerialization.jsonObject(with: Data(bytes)) as? NSDictionary
            #expect(parsed == Self.expected(image))
            // Keys come sorted and slashes unescaped, as the Foundation encoder was asked to.
            let reference = try JSONSerialization.data(withJSONObject: Self.expected(image), options: [.sortedKeys, .withoutEscapingSlashes])
            let ours = try JSONSerialization.jsonObject(with: Data(bytes)) as! [String: Any]
            #expect(Array(ours.keys).sorted() == ((try JSONSerialization.jsonObject(with: reference)) as! [String: Any]).keys.sorted())
            #expect(!String(decoding: bytes, as: UTF8.self).contains("\\/"))
        }
    }

    @Test func timestampsMatchTheDateFormatter() {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        for seconds in [0, 59, 86_399, 951_782_400, 1_764_620_000, 2_000_000_000, 4_102_444_799] {
            #expect(JSONWriter.timestamp(seconds) == formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds))))
        }
    }
}
