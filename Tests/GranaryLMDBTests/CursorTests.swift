import GranaryLMDB
import GranaryTesting
import Testing

@Suite(.consistencyChecked) struct CursorTests {
    /// A database holding keys 0, 10, 20, …, 990 with the number as value.
    func tensDatabase(_ dir: TemporaryDirectory) throws -> (Environment, Database) {
        let env = try Environment(directory: dir.path)
        let db = try env.openDatabase("tens")
        try env.write { txn in
            for n in stride(from: 990, through: 0, by: -10) { try txn.put(db, key(n), key(n)) }
        }
        return (env, db)
    }

    func number(_ bytes: UnsafeRawBufferPointer) -> Int {
        Int(bytes.reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
    }

    @Test func rangeSeekLandsOnTheNextKey() throws {
        let dir = TemporaryDirectory()
        let (env, db) = try tensDatabase(dir)
        let found = try env.read { txn in
            try txn.withCursor(db) { cursor -> [Int] in
                var result: [Int] = []
                var entry = try cursor.seek(atOrAfter: key(455))
                while let e = entry, result.count < 3 {
                    result.append(number(e.key))
                    entry = try cursor.next()
                }
                return result
            }
        }
        #expect(found == [460, 470, 480])
    }

    @Test func seeksAtTheEnds() throws {
        let dir = TemporaryDirectory()
        let (env, db) = try tensDatabase(dir)
        let seen: [Int?] = try env.read { txn in
            try txn.withCursor(db) { cursor in
                [
                    try cursor.seek(atOrAfter: key(991)).map { number($0.key) },
                    try cursor.first().map { number($0.key) },
                    try cursor.previous().map { number($0.key) },
                    try cursor.last().map { number($0.key) },
                    try cursor.seek(atOrBefore: key(455)).map { number($0.key) },
                    try cursor.seek(atOrBefore: key(450)).map { number($0.key) },
                    try cursor.seek(atOrBefore: key(5000)).map { number($0.key) },
                    try cursor.seek(exactly: key(451)).map { number($0.key) },
                    try cursor.seek(exactly: key(450)).map { number($0.value) },
                ]
            }
        }
        #expect(seen == [nil, 0, nil, 990, 450, 450, 990, nil, 450])
    }

    @Test func forEachStopsWhenAsked() throws {
        let dir = TemporaryDirectory()
        let (env, db) = try tensDatabase(dir)
        var visited: [Int] = []
        try env.read { txn in
            try txn.forEach(db, from: key(900)) { k, _ in
                visited.append(number(k))
                return visited.count < 5
            }
        }
        #expect(visited == [900, 910, 920, 930, 940])
    }

    @Test func deletingThroughAWriteCursor() throws {
        let dir = TemporaryDirectory()
        let (env, db) = try tensDatabase(dir)
        try env.write { txn in
            try txn.withCursor(db) { cursor in
                var entry = try cursor.seek(atOrAfter: key(500))
                while let e = entry, number(e.key) < 600 {
                    try cursor.deleteCurrent()
                    entry = try cursor.seek(atOrAfter: key(500))
                }
            }
        }
        #expect(try env.read { try $0.count(db) } == 90)
        #expect(try env.read { try $0.contains(db, key(550)) } == false)
        #expect(try env.read { try $0.contains(db, key(600)) } == true)
    }
}
