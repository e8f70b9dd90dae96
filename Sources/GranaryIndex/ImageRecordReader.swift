/// Reads an ``ImageRecord`` straight from the JSON bytes `JSONEncoder` stored, without
/// Foundation's decoder: a list page decodes up to a thousand records, and `JSONDecoder`
/// spent ~30 µs on each (57% of a 1,000-image page in `perf`), most of it in generic
/// container machinery. This reader knows the record's keys and types and nothing else; on
/// anything it does not expect (a key a later version added, a value of another type,
/// malformed bytes) it gives up and the caller falls back to `JSONDecoder`, which stays the
/// definition of the format.
struct ImageRecordReader {
    /// The reader met something it does not handle.
    struct Unexpected: Error {}

    private let bytes: UnsafeRawBufferPointer
    private var position = 0

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    /// The record, or nil when anything is off (the caller then decodes with `JSONDecoder`).
    static func read(_ bytes: UnsafeRawBufferPointer) -> ImageRecord? {
        var reader = ImageRecordReader(bytes)
        return try? reader.record()
    }

    private mutating func record() throws(Unexpected) -> ImageRecord {
        var id: String?
        var status: String?
        var visibility: String?
        var protected: Bool?
        var osHidden: Bool?
        var minDisk: Int?
        var minRam: Int?
        var tags: [String]?
        var properties: [String: String]?
        var createdAt: Int?
        var updatedAt: Int?
        var record = ImageRecord(id: "", owner: nil, now: 0)
        // A key given twice is not what JSONEncoder writes (and JSONDecoder keeps the first).
        var seen: UInt32 = 0
        func once(_ bit: UInt32) throws(Unexpected) {
            guard seen & (1 << bit) == 0 else { throw Unexpected() }
            seen |= 1 << bit
        }
        try objectFields { reader, key throws(Unexpected) in
            switch key {
            case "id":
                try once(0)
                id = try reader.string()
            case "name":
                try once(1)
                record.name = try reader.optional { r throws(Unexpected) in try r.string() }
            case "status":
                try once(2)
                status = try reader.string()
            case "visibility":
                try once(3)
                visibility = try reader.string()
            case "protected":
                try once(4)
                protected = try reader.bool()
            case "osHidden":
                try once(5)
                osHidden = try reader.bool()
            case "checksum":
                try once(6)
                record.checksum = try reader.optional { r throws(Unexpected) in try r.string() }
            case "osHashAlgo":
                try once(7)
                record.osHashAlgo = try reader.optional { r throws(Unexpected) in try r.string() }
            case "osHashValue":
                try once(8)
                record.osHashValue = try reader.optional { r throws(Unexpected) in try r.string() }
            case "owner":
                try once(9)
                record.owner = try reader.optional { r throws(Unexpected) in try r.string() }
            case "size":
                try once(10)
                record.size = try reader.optional { r throws(Unexpected) in try r.integer() }
            case "virtualSize":
                try once(11)
                record.virtualSize = try reader.optional { r throws(Unexpected) in try r.integer() }
            case "containerFormat":
                try once(12)
                record.containerFormat = try reader.optional { r throws(Unexpected) in try r.string() }
            case "diskFormat":
                try once(13)
                record.diskFormat = try reader.optional { r throws(Unexpected) in try r.string() }
            case "minDisk":
                try once(14)
                minDisk = try reader.integer()
            case "minRam":
                try once(15)
                minRam = try reader.integer()
            case "tags":
                try once(16)
                var list: [String] = []
                try reader.arrayElements { r throws(Unexpected) in list.append(try r.string()) }
                tags = list
            case "properties":
                try once(17)
                var fields: [String: String] = [:]
                try reader.objectFields { r, name throws(Unexpected) in
                    guard fields.updateValue(try r.string(), forKey: name) == nil else { throw Unexpected() }
                }
                properties = fields
            case "createdAt":
                try once(18)
                createdAt = try reader.integer()
            case "updatedAt":
                try once(19)
                updatedAt = try reader.integer()
            case "blob":
                try once(20)
                record.blob = try reader.optional { r throws(Unexpected) in try r.string() }
            case "staged":
                try once(21)
                record.staged = try reader.optional { r throws(Unexpected) in try r.staged() }
            default: throw Unexpected()
            }
        }
        skipSpace()
        guard position == bytes.count, let id, let status = status.flatMap(ImageStatus.init(rawValue:)),
            let visibility = visibility.flatMap(ImageVisibility.init(rawValue:)), let protected, let osHidden, let minDisk, let minRam,
            let tags, let properties, let createdAt, let updatedAt
        else { throw Unexpected() }
        record.id = id
        record.status = status
        record.visibility = visibility
        record.protected = protected
        record.osHidden = osHidden
        record.minDisk = minDisk
        record.minRam = minRam
        record.tags = tags
        record.properties = properties
        record.createdAt = createdAt
        record.updatedAt = updatedAt
        return record
    }

    private mutating func staged() throws(Unexpected) -> StagedData {
        var blob: String?
        var size: Int?
        var checksum: String?
        var osHashAlgo: String?
        var osHashValue: String?
        var stagedAt: Int?
        var virtualSize: Int?
        var seen: UInt32 = 0
        func once(_ bit: UInt32) throws(Unexpected) {
            guard seen & (1 << bit) == 0 else { throw Unexpected() }
            seen |= 1 << bit
        }
        try objectFields { reader, key throws(Unexpected) in
            switch key {
            case "blob":
                try once(0)
                blob = try reader.string()
            case "size":
                try once(1)
                size = try reader.integer()
            case "checksum":
                try once(2)
                checksum = try reader.optional { r throws(Unexpected) in try r.string() }
            case "osHashAlgo":
                try once(3)
                osHashAlgo = try reader.string()
            case "osHashValue":
                try once(4)
                osHashValue = try reader.optional { r throws(Unexpected) in try r.string() }
            case "stagedAt":
                try once(5)
                stagedAt = try reader.integer()
            case "virtualSize":
                try once(6)
                virtualSize = try reader.optional { r throws(Unexpected) in try r.integer() }
            default: throw Unexpected()
            }
        }
        guard let blob, let size, let osHashAlgo, let stagedAt else { throw Unexpected() }
        return StagedData(
            blob: blob, size: size, checksum: checksum, osHashAlgo: osHashAlgo, osHashValue: osHashValue, stagedAt: stagedAt, virtualSize: virtualSize
        )
    }

    // MARK: JSON pieces

    private func peek() -> UInt8? { position < bytes.count ? bytes[position] : nil }

    private mutating func skipSpace() {
        while let byte = peek(), byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 { position += 1 }
    }

    private mutating func expect(_ byte: UInt8) throws(Unexpected) {
        skipSpace()
        guard peek() == byte else { throw Unexpected() }
        position += 1
    }

    /// Calls `field` with each key of an object; `field` must read the key's value.
    private mutating func objectFields(_ field: (inout ImageRecordReader, String) throws(Unexpected) -> Void) throws(Unexpected) {
        try expect(UInt8(ascii: "{"))
        skipSpace()
        if peek() == UInt8(ascii: "}") {
            position += 1
            return
        }
        while true {
            let key = try string()
            try expect(UInt8(ascii: ":"))
            try field(&self, key)
            skipSpace()
            guard let byte = peek() else { throw Unexpected() }
            position += 1
            if byte == UInt8(ascii: "}") { return }
            guard byte == UInt8(ascii: ",") else { throw Unexpected() }
        }
    }

    private mutating func arrayElements(_ element: (inout ImageRecordReader) throws(Unexpected) -> Void) throws(Unexpected) {
        try expect(UInt8(ascii: "["))
        skipSpace()
        if peek() == UInt8(ascii: "]") {
            position += 1
            return
        }
        while true {
            try element(&self)
            skipSpace()
            guard let byte = peek() else { throw Unexpected() }
            position += 1
            if byte == UInt8(ascii: "]") { return }
            guard byte == UInt8(ascii: ",") else { throw Unexpected() }
        }
    }

    private mutating func optional<T>(_ value: (inout ImageRecordReader) throws(Unexpected) -> T) throws(Unexpected) -> T? {
        skipSpace()
        if try literal("null") { return nil }
        return try value(&self)
    }

    /// Consumes `word` when it comes next.
    private mutating func literal(_ word: StaticString) throws(Unexpected) -> Bool {
        let count = word.utf8CodeUnitCount
        guard position + count <= bytes.count else { return false }
        for i in 0..<count where bytes[position + i] != word.utf8Start[i] { return false }
        position += count
        return true
    }

    private mutating func bool() throws(Unexpected) -> Bool {
        skipSpace()
        if try literal("true") { return true }
        if try literal("false") { return false }
        throw Unexpected()
    }

    /// A whole number, as `JSONEncoder` writes an `Int` (no fraction, no exponent).
    private mutating func integer() throws(Unexpected) -> Int {
        skipSpace()
        var negative = false
        if peek() == UInt8(ascii: "-") {
            negative = true
            position += 1
        }
        var value = 0
        var digits = 0
        let leadingZero = peek() == UInt8(ascii: "0")
        while let byte = peek(), byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
            let (times, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times.addingReportingOverflow(Int(byte - UInt8(ascii: "0")))
            guard !o1, !o2 else { throw Unexpected() }
            value = sum
            digits += 1
            position += 1
        }
        if let byte = peek(), byte == UInt8(ascii: ".") || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") { throw Unexpected() }
        // JSON has no leading zeros (`JSONDecoder` refuses `01`).
        guard digits > 0, digits == 1 || !leadingZero else { throw Unexpected() }
        return negative ? -value : value
    }

    private mutating func string() throws(Unexpected) -> String {
        try expect(UInt8(ascii: "\""))
        let start = position
        // Fast path: no escapes, the bytes between the quotes are the string's UTF-8.
        while let byte = peek(), byte != UInt8(ascii: "\""), byte != UInt8(ascii: "\\") {
            guard byte >= 0x20 else { throw Unexpected() }
            position += 1
        }
        guard let stop = peek() else { throw Unexpected() }
        if stop == UInt8(ascii: "\"") {
            position += 1
            return try text(UnsafeRawBufferPointer(rebasing: bytes[start..<(position - 1)]))
        }
        var unescaped = Array(bytes[start..<position])
        while true {
            guard let byte = peek() else { throw Unexpected() }
            position += 1
            switch byte {
            case UInt8(ascii: "\""):
                guard let value = String(validating: unescaped, as: UTF8.self) else { throw Unexpected() }
                return value
            case UInt8(ascii: "\\"):
                guard let escape = peek() else { throw Unexpected() }
                position += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): unescaped.append(escape)
                case UInt8(ascii: "b"): unescaped.append(0x08)
                case UInt8(ascii: "f"): unescaped.append(0x0C)
                case UInt8(ascii: "n"): unescaped.append(0x0A)
                case UInt8(ascii: "r"): unescaped.append(0x0D)
                case UInt8(ascii: "t"): unescaped.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800..<0xDC00).contains(scalar) {
                        // A surrogate pair: the low half must follow as its own escape.
                        guard try literal("\\u") else { throw Unexpected() }
                        let low = try hex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw Unexpected() }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let value = Unicode.Scalar(scalar) else { throw Unexpected() }
                    unescaped.append(contentsOf: Array(String(Character(value)).utf8))
                default: throw Unexpected()
                }
            default:
                guard byte >= 0x20 else { throw Unexpected() }
                unescaped.append(byte)
            }
        }
    }

    private mutating func hex4() throws(Unexpected) -> UInt32 {
        guard position + 4 <= bytes.count else { throw Unexpected() }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[position]
            position += 1
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw Unexpected()
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    /// Valid UTF-8 only, as `JSONDecoder` demands.
    private func text(_ utf8: UnsafeRawBufferPointer) throws(Unexpected) -> String {
        guard let value = String(validating: utf8, as: UTF8.self) else { throw Unexpected() }
        return value
    }
}
