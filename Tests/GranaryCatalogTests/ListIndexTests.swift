import Foundation
import GranaryLMDB
import GranaryParsing
import GranaryStore
import GranaryTesting
import Testing

@testable import GranaryCatalog
@testable import GranaryIndex

/// Index-served lists against the reference scan, on a real LMDB store with a few hundred random
/// images: every random query and caller must get the same pages, marker by marker, before and
/// after updates and deletes, and after the term index is rebuilt for an old data directory.
@Suite(.consistencyChecked) struct ListIndexTests {
    static let projects: [String?] = [nil, "p1", "p2", "p3"]
    /// Two long names that only differ after the 256 bytes kept in a key.
    static let longA = String(repeating: "n", count: 300) + "a"
    static let longB = String(repeating: "n", count: 300) + "b"
    static let names: [String?] = [nil, "", "alpha", "beta", "gamma", "a:b", "ünï", longA, longB]
    static let statuses: [ImageStatus] = [.queued, .saving, .active, .deactivated, .killed]
    static let visibilities: [ImageVisibility] = [.public, .private, .shared, .community]
    static let tags = ["red", "green", "blue", "big", "small"]
    static let callers: [Caller] = [
        .noauthAdmin,
        Caller(projectID: "p1", userID: "u", roles: ["admin"]),
        Caller(projectID: "p1", userID: "u", roles: ["member", "reader"]),
        Caller(projectID: "p2", userID: "u", roles: ["reader"]),
        Caller(projectID: "p3", userID: "u", roles: ["member", "reader"]),
        Caller(projectID: nil, userID: "u", roles: ["reader"]),
    ]

    /// A catalog on a store in a fresh temporary directory.
    struct Fixture {
        let path = TemporaryDirectory("granary-catalog").path
        let catalog: ImageCatalog

        init() throws { catalog = try makeTestCatalog(at: path) }

        var environment: Environment { catalog.store.environment }

        func all() throws -> [ImageRecord] {
            var records: [ImageRecord] = []
            try environment.read { txn in
                try catalog.index.newestFirst(after: nil, in: txn) { image in
                    records.append(image)
                    return true
                }
            }
            return records
        }
    }

    static func uuid(_ rng: inout SeededRandom) -> String {
        let hex = (0..<16).map { _ in String(UInt8.random(in: 0...255, using: &rng), radix: 16).leftPadded(2) }.joined()
        let groups = [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { range in
            String(hex.dropFirst(range.lowerBound).prefix(range.count))
        }
        return groups.joined(separator: "-")
    }

    static func randomImage(_ rng: inout SeededRandom) -> ImageRecord {
        // created_at from a narrow range, so many images tie and the id breaks the tie.
        var image = ImageRecord(id: uuid(&rng), owner: projects.randomElement(using: &rng)!, now: 1_700_000_000 + Int.random(in: 0..<40, using: &rng))
        randomize(&image, &rng)
        return image
    }

    static func randomize(_ image: inout ImageRecord, _ rng: inout SeededRandom) {
        image.name = names.randomElement(using: &rng)!
        image.status = statuses.randomElement(using: &rng)!
        image.visibility = visibilities.randomElement(using: &rng)!
        image.tags = tags.filter { _ in Int.random(in: 0..<3, using: &rng) == 0 }
        image.osHidden = Int.random(in: 0..<8, using: &rng) == 0
        image.protected = Bool.random(using: &rng)
        image.size = Bool.random(using: &rng) ? Int.random(in: 0..<1000, using: &rng) : nil
        image.diskFormat = ["raw", "qcow2", nil].randomElement(using: &rng)!
        image.properties = Bool.random(using: &rng) ? ["os_distro": ["debian", "ubuntu"].randomElement(using: &rng)!] : [:]
    }

    /// Puts `count` random images, and members (of any status) on some of them.
    static func populate(_ fixture: Fixture, count: Int, _ rng: inout SeededRandom) throws {
        var images: [ImageRecord] = []
        for _ in 0..<count { images.append(randomImage(&rng)) }
        var members: [(member: MemberRecord, image: ImageRecord)] = []
        for image in images where image.visibility == .shared || Int.random(in: 0..<10, using: &rng) == 0 {
            for project in ["p1", "p2", "p3"] where Bool.random(using: &rng) {
                let status = MemberStatus.allCases.randomElement(using: &rng)!
                members.append((MemberRecord(imageID: image.id, memberID: project, status: status, createdAt: 0, updatedAt: 0), image))
            }
        }
        try fixture.environment.write { txn in
            for image in images { try fixture.catalog.index.put(image, previous: nil, in: txn) }
            for (member, image) in members {
                try fixture.catalog.members.put(member, in: txn)
                try fixture.catalog.index.addMember(member.memberID, to: image, in: txn)
            }
        }
    }

    static func randomQuery(_ rng: inout SeededRandom, ids: [String]) -> [(String, String)] {
        var parameters: [(String, String)] = []
        func chance(_ percent: Int) -> Bool { Int.random(in: 0..<100, using: &rng) < percent }
        if chance(30) {
            let picked = (0..<Int.random(in: 1...3, using: &rng)).map { _ in names.randomElement(using: &rng)! ?? "" }
            parameters.append(("name", picked.count == 1 ? "eq:" + picked[0] : "in:" + picked.map { "\"\($0)\"" }.joined(separator: ",")))
        }
        if chance(25) { parameters.append(("status", chance(70) ? statuses.randomElement(using: &rng)!.rawValue : "in:active,queued")) }
        if chance(30) { parameters.append(("tag", tags.randomElement(using: &rng)!)) }
        if chance(10) { parameters.append(("tag", tags.randomElement(using: &rng)!)) }
        if chance(15) { parameters.append(("owner", (projects.randomElement(using: &rng)! ?? "p9"))) }
        if chance(35) { parameters.append(("visibility", (visibilities.map(\.rawValue) + ["all"]).randomElement(using: &rng)!)) }
        if chance(20) { parameters.append(("member_status", ["pending", "accepted", "rejected", "all"].randomElement(using: &rng)!)) }
        if chance(10) { parameters.append(("os_hidden", "true")) }
        if chance(10) { parameters.append(("protected", Bool.random(using: &rng) ? "true" : "false")) }
        if chance(8) { parameters.append(("os_distro", "debian")) }
        if chance(8) { parameters.append(("size_min", "300")) }
        if chance(8), !ids.isEmpty {
            parameters.append(
                ("id", "in:" + (0..<Int.random(in: 1...20, using: &rng)).map { _ in ids.randomElement(using: &rng)! }.joined(separator: ",")))
        }
        switch Int.random(in: 0..<10, using: &rng) {
        case 0, 1: parameters += [("sort_key", "created_at"), ("sort_dir", "asc")]
        case 2: parameters.append(("sort_dir", "asc"))
        case 3: parameters.append(("sort", "created_at:desc,id:desc"))
        case 4: parameters += [("sort_key", "name"), ("sort_dir", "asc")]
        case 5: parameters.append(("sort", "size:desc,created_at:asc"))
        case 6:
            // One other column, either way, maybe with created_at (and id) after it: the sort index's orders.
            let column = ["name", "status", "container_format", "disk_format", "size", "updated_at", "id"].randomElement(using: &rng)!
            let direction = chance(50) ? "asc" : "desc"
            let ties = ["", ",created_at:\(direction)", ",created_at:\(direction),id:\(direction)"].randomElement(using: &rng)!
            if chance(50) && ties.isEmpty {
                parameters += [("sort_key", column), ("sort_dir", direction)]
            } else {
                parameters.append(("sort", "\(column):\(direction)" + ties))
            }
        default: break
        }
        parameters.append(("limit", String(Int.random(in: 1...30, using: &rng))))
        return parameters
    }

    /// Pages through `parameters` on both paths (marker = last id of each page), requiring equal
    /// pages; then one page after a random visible image that the filters may not match.
    static func compare(_ catalog: ImageCatalog, _ parameters: [(String, String)], _ caller: Caller, ids: [String], _ rng: inout SeededRandom) throws
    {
        var query = try ImageQuery(parameters: parameters)
        var seen = 0
        for _ in 0..<100 {
            let indexed = try catalog.list(query, caller: caller)
            let scanned = try catalog.list(query, caller: caller, scan: true)
            let walked = try catalog.list(query, caller: caller, scan: false, sortWalk: .always)
            #expect(indexed.images.map(\.id) == scanned.images.map(\.id), "\(parameters) as \(caller) after \(query.marker ?? "start")")
            #expect(walked.images.map(\.id) == scanned.images.map(\.id), "walked: \(parameters) as \(caller) after \(query.marker ?? "start")")
            #expect(indexed.more == scanned.more && walked.more == scanned.more)
            seen += scanned.images.count
            guard scanned.more, let last = scanned.images.last else { break }
            query.marker = last.id
        }
        let marker = ids.randomElement(using: &rng)!
        query.marker = marker
        let indexed = Result { try catalog.list(query, caller: caller).images.map(\.id) }
        let scanned = Result { try catalog.list(query, caller: caller, scan: true).images.map(\.id) }
        let walked = Result { try catalog.list(query, caller: caller, scan: false, sortWalk: .always).images.map(\.id) }
        for (path, result) in [("indexed", indexed), ("walked", walked)] {
            switch (result, scanned) {
            case (.success(let a), .success(let b)): #expect(a == b, "\(path): \(parameters) as \(caller) after any marker \(marker)")
            case (.failure, .failure): break
            default: Issue.record("one path failed: \(path) \(result) vs \(scanned) for \(parameters) after \(marker)")
            }
        }
    }

    static func differential(_ fixture: Fixture, queries: Int, _ rng: inout SeededRandom) throws {
        let ids = try fixture.all().map(\.id)
        for _ in 0..<queries { try randomComparison(fixture, ids: ids, &rng) }
    }

    /// The same, yielding after each query: in a debug build hundreds of queries hold a thread
    /// of the small cooperative pool for a minute, and the in-process HTTP servers of tests
    /// running beside this one would stall past their clients' timeouts.
    static func differential(_ fixture: Fixture, queries: Int, _ rng: inout SeededRandom) async throws {
        let ids = try fixture.all().map(\.id)
        for _ in 0..<queries {
            try randomComparison(fixture, ids: ids, &rng)
            await Task.yield()
        }
    }

    static func randomComparison(_ fixture: Fixture, ids: [String], _ rng: inout SeededRandom) throws {
        let parameters = randomQuery(&rng, ids: ids)
        try compare(fixture.catalog, parameters, callers.randomElement(using: &rng)!, ids: ids, &rng)
    }

    /// Every term's walk and count are exactly the images carrying it, in index order.
    static func checkTerms(_ fixture: Fixture) throws {
        let records = try fixture.all()
        var terms: Set<ListTerm> = []
        for status in statuses { terms.insert(.status(status.rawValue)) }
        for visibility in visibilities { terms.insert(.visibility(visibility.rawValue)) }
        for name in names { terms.insert(.name(name ?? "")) }
        for tag in tags { terms.insert(.tag(tag)) }
        for project in projects + ["p9"] { terms.insert(.owner(project)) }
        for project in ["p1", "p2", "p3", "p9"] { terms.insert(.member(project)) }
        try fixture.environment.read { txn in
            var shares: [String: Set<String>] = [:]
            for image in records { shares[image.id] = Set(try fixture.catalog.members.all(of: image.id, in: txn).map(\.memberID)) }
            func carries(_ image: ImageRecord, _ term: ListTerm) -> Bool {
                switch term {
                case .status(let v): image.status.rawValue == v
                case .visibility(let v): image.visibility.rawValue == v
                case .name(let v): (image.name ?? "") == v
                case .tag(let v): image.tags.contains(v)
                case .owner(let v): image.owner == v
                case .member(let v): shares[image.id]?.contains(v) == true
                }
            }
            for term in terms {
                // Both long names share their first 256 bytes, so they share entries.
                let expected = records.filter { image in
                    carries(image, term) || (term == .name(longA) && image.name == longB) || (term == .name(longB) && image.name == longA)
                }
                var walked: [String] = []
                try fixture.catalog.index.walk([term], descending: true, after: nil, in: txn) { image in
                    walked.append(image.id)
                    return true
                }
                #expect(walked == expected.map(\.id), "\(term)")
                #expect(try fixture.catalog.index.count(term, in: txn) == expected.count, "count of \(term)")
            }
        }
    }

    @Test func indexedListsEqualTheScan() async throws {
        let fixture = try Fixture()
        var rng = SeededRandom(seed: 1)
        try Self.populate(fixture, count: 300, &rng)
        try Self.checkTerms(fixture)
        try await Self.differential(fixture, queries: 400, &rng)
    }

    @Test func indexesFollowUpdatesAndDeletes() async throws {
        let fixture = try Fixture()
        var rng = SeededRandom(seed: 2)
        try Self.populate(fixture, count: 250, &rng)
        var images = try fixture.all()
        var changes: [(record: ImageRecord, previous: ImageRecord)] = []
        for i in images.indices {
            let previous = images[i]
            switch Int.random(in: 0..<8, using: &rng) {
            case 0: images[i].name = Self.names.randomElement(using: &rng)!
            // A status the state machine allows next (the index refuses any other).
            case 1: images[i].status = Self.statuses.filter { ImageLifecycle.allows(previous.status, to: $0) }.randomElement(using: &rng)!
            case 2: images[i].tags.append(contentsOf: Self.tags.filter { !images[i].tags.contains($0) }.prefix(1))
            case 3: images[i].tags.removeAll { _ in Bool.random(using: &rng) }
            case 4: images[i].visibility = Self.visibilities.randomElement(using: &rng)!
            case 5: images[i].owner = Self.projects.randomElement(using: &rng)!
            case 6: images[i].createdAt += Int.random(in: -5...5, using: &rng)
            default:
                Self.randomize(&images[i], &rng)
                if !ImageLifecycle.allows(previous.status, to: images[i].status) { images[i].status = previous.status }
            }
            changes.append((images[i], previous))
        }
        let index = fixture.catalog.index
        let updated = changes
        let deleted = Array(images.prefix(40))
        try await fixture.catalog.store.coordinator.submit { txn in
            for change in updated { try index.put(change.record, previous: change.previous, in: txn) }
            for image in deleted { try index.delete(image, in: txn) }
        }
        // And through the catalog's own writers, which pass the stored record as `previous`.
        let admin = Caller.noauthAdmin
        for image in images.dropFirst(40).prefix(30) {
            if image.tags.contains("red") {
                try await fixture.catalog.setTag(image.id, "red", present: false, caller: admin)
            } else {
                try await fixture.catalog.setTag(image.id, "red", present: true, caller: admin)
            }
            if image.status == .active { try await fixture.catalog.setActive(image.id, false, caller: admin) }
            if image.status == .deactivated { try await fixture.catalog.setActive(image.id, true, caller: admin) }
        }
        for image in images.dropFirst(40).prefix(60) where image.visibility == .shared {
            if try fixture.catalog.listMembers(image.id, caller: admin).contains(where: { $0.memberID == "p2" }) {
                try await fixture.catalog.removeMember(image.id, member: "p2", caller: admin)
            } else {
                _ = try await fixture.catalog.addMember(image.id, member: "p2", caller: admin)
            }
        }
        for image in images.dropFirst(70).prefix(10) where !image.protected {
            try await fixture.catalog.delete(image.id, caller: admin)
        }
        try Self.checkTerms(fixture)
        try await Self.differential(fixture, queries: 250, &rng)
    }

    @Test func openingBuildsMissingIndexesOnce() throws {
        let fixture = try Fixture()
        var rng = SeededRandom(seed: 3)
        try Self.populate(fixture, count: 150, &rng)
        let index = fixture.catalog.index
        // A data directory from before `images.by_term` and `images.by_sort`: records and
        // created-at index only.
        try fixture.environment.write { txn in
            try txn.removeAll(index.byTerm)
            try txn.removeAll(index.termCounts)
            try txn.removeAll(index.bySort)
            try txn.delete(index.meta, Array("terms".utf8))
            try txn.delete(index.meta, Array("sort".utf8))
        }
        let walked = try fixture.environment.read { txn in
            var ids: [String] = []
            try index.walk([.visibility("public")], descending: true, after: nil, in: txn) { image in
                ids.append(image.id)
                return true
            }
            return ids
        }
        #expect(walked.isEmpty)
        let sorted = try fixture.environment.read { txn in
            var count = 0
            try index.walkSorted(by: .name, descending: false, after: nil, in: txn) { group in
                count += group.count
                return true
            }
            return count
        }
        #expect(sorted == 0)
        _ = try ImageIndex(environment: fixture.environment)
        try Self.checkTerms(fixture)
        try Self.differential(fixture, queries: 60, &rng)
        let stored = try fixture.environment.read { txn in try txn.value(index.meta, Array("terms".utf8)) }
        #expect(stored == Array(ImageIndex.termsVersion.utf8))
        let storedSort = try fixture.environment.read { txn in try txn.value(index.meta, Array("sort".utf8)) }
        #expect(storedSort == Array(ImageIndex.sortVersion.utf8))
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
