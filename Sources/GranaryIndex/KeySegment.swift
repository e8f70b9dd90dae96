import GranaryCodec

/// A caller-chosen string as a piece of an LMDB key.
///
/// LMDB refuses keys over 511 bytes, and a name of 255 characters can take 1,020 bytes of
/// UTF-8. A string of at most ``maxBytes`` bytes is its UTF-8 as it is; a longer one is its
/// first ``keptBytes`` bytes, `0xFF` (a byte UTF-8 never holds, so no short string can end up
/// with the same bytes) and the hex SHA-256 of the whole string: distinct strings keep distinct
/// keys, a segment never holds `0x00` (the separator after it), and it is never longer than
/// 128 bytes (a hashed one is 113). Keys that need a string back read it from the record, not from the key.
enum KeySegment {
    static let maxBytes = 128
    static let keptBytes = 48

    static func encode(_ text: String) -> [UInt8] {
        let bytes = Array(text.utf8)
        guard bytes.count > maxBytes else { return bytes }
        return Array(bytes.prefix(keptBytes)) + [0xFF] + Array(StreamingDigest.hash(.sha256, bytes).hex.utf8)
    }
}
