import GranaryLMDB
import GranaryTesting
import Testing

/// Keys longer than LMDB stores come from requests (an id, a marker): lookups must answer
/// "not there" and seeks the right neighbour, not fail.
@Suite(.consistencyChecked) struct LongKeyTests {
    @Test func lookupsAndDeletesOfLongKeysFindNothing() throws {
        let dir = TemporaryDirectory()
        let env = try Environment(directory: dir.path)
        let db = try env.openDatabase("long")
        let longest = [UInt8](repeating: 0x61, count: Environment.maxKeySize)
        try env.write { txn in try txn.put(db, longest, [1]) }
        let tooLong = longest + [0x61]
        let found = try env.read { txn in
            (try txn.value(db, longest), try txn.value(db, tooLong), try txn.value(db, []), try txn.contains(db, tooLong))
        }
        #expect(found.0 == [1])
        #expect(found.1 == nil && found.2 == nil && found.3 == false)
        let deleted = try env.write { txn in try txn.delete(db, tooLong) }
        #expect(deleted == false)
    }

    @Test func seeksPastTheLimitLandOnTheNextStoredKey() throws {
        let dir = TemporaryDirectory()
        let env = try Environment(directory: dir.path)
        let db = try env.openDatabase("long")
        let prefix = [UInt8](repeating: 0x61, count: Environment.maxKeySize)
        let after = [UInt8](repeating: 0x61, count: Environment.maxKeySize - 1) + [0x62]
        try env.write { txn in
            try txn.put(db, prefix, [1])
            try txn.put(db, after, [2])
            try txn.put(db, [0x60], [0])
        }
        let seeks = try env.read { txn in
            try txn.withCursor(db) { cursor in
                [
                    try cursor.seek(atOrAfter: prefix + [0x00]).map { Array($0.key) },
                    try cursor.seek(atOrAfter: [UInt8](repeating: 0x60, count: 600)).map { Array($0.key) },
                    try cursor.seek(atOrAfter: after + [0x00]).map { Array($0.key) },
                    try cursor.seek(exactly: prefix + [0x00]).map { Array($0.key) },
                ]
            }
        }
        // The stored 511-byte prefix sorts before the longer key: the answer is the key after it.
        #expect(seeks == [after, prefix, nil, nil])
    }
}
