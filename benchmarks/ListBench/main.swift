import Foundation
import GranaryCatalog
import GranaryIndex
import GranaryLMDB
import GranaryParsing
import GranaryStore

// Bulk-loads N image records straight through `ImageIndex` (big non-durable write transactions,
// no HTTP), then times `ImageCatalog.list` pages for the list targets, as an admin and as
// a member of one project, and finally the one-off term-index build an upgraded data directory
// does at open. Run: `GRANARY_BENCHMARKS=1 swift run -c release --scratch-path .build-bench ListBench [--images N] [--samples S]`.

var imageCount = 1_000_000
var samples = 2_000
var arguments = CommandLine.arguments.dropFirst().makeIterator()
while let argument = arguments.next() {
    switch argument {
    case "--images": imageCount = Int(arguments.next() ?? "") ?? imageCount
    case "--samples": samples = Int(arguments.next() ?? "") ?? samples
    default:
        print("usage: ListBench [--images N] [--samples S]")
        exit(2)
    }
}

/// SplitMix64, so every run loads the same images.
struct Seeded: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

var rng = Seeded(state: 7)
@MainActor func uuid() -> String {
    let a = rng.next()
    let b = rng.next()
    let hex = String(a, radix: 16).leftPadded(16) + String(b, radix: 16).leftPadded(16)
    let c = Array(hex)
    return String(c[0..<8]) + "-" + String(c[8..<12]) + "-" + String(c[12..<16]) + "-" + String(c[16..<20]) + "-" + String(c[20..<32])
}

extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}

/// Picks from `choices` with the given weights (percent).
@MainActor func weighted(_ choices: [(String, Int)]) -> String {
    var roll = Int.random(in: 0..<100, using: &rng)
    for (value, weight) in choices {
        if roll < weight { return value }
        roll -= weight
    }
    return choices[0].0
}

let names = (0..<1000).map { "image-\($0)" }
let tags = (0..<50).map { "tag-\($0)" }
let projects = (0..<200).map { "project-\($0)" }
let memberProject = projects[0]

let path = NSTemporaryDirectory() + "granary-listbench-" + UUID().uuidString
defer { try? FileManager.default.removeItem(atPath: path) }
var settings = StoreSettings()
settings.durableIndex = false
let store = try BlobStore(directory: DataDirectory(path: path, access: .exclusive), settings: settings)
let catalog = try ImageCatalog(store: store)

// MARK: Bulk load

let loadStart = ContinuousClock.now
var publicIDs: [String] = []
var allIDs: [String] = []
let batch = 20_000
var loaded = 0
var shares = 0
while loaded < imageCount {
    let count = min(batch, imageCount - loaded)
    var records: [ImageRecord] = []
    var members: [MemberRecord] = []
    for i in loaded..<(loaded + count) {
        // Four images per second: created_at ties, broken by id.
        var image = ImageRecord(id: uuid(), owner: projects.randomElement(using: &rng)!, now: 1_600_000_000 + i / 4)
        image.name = names.randomElement(using: &rng)!
        image.status = ImageStatus(rawValue: weighted([("active", 80), ("queued", 10), ("deactivated", 5), ("saving", 3), ("killed", 2)])) ?? .active
        image.visibility = ImageVisibility(rawValue: weighted([("public", 20), ("private", 40), ("shared", 30), ("community", 10)])) ?? .private
        image.tags = (0..<Int.random(in: 0...3, using: &rng)).map { _ in tags.randomElement(using: &rng)! }
        image.tags = Array(Set(image.tags)).sorted()
        image.diskFormat = "qcow2"
        image.containerFormat = "bare"
        image.size = Int.random(in: 1 << 20..<1 << 32, using: &rng)
        image.properties = ["os_distro": ["debian", "ubuntu", "fedora"].randomElement(using: &rng)!]
        if image.visibility == .public { publicIDs.append(image.id) }
        if image.visibility == .shared, image.owner != memberProject, Int.random(in: 0..<50, using: &rng) == 0 {
            let status = MemberStatus(rawValue: weighted([("accepted", 80), ("pending", 20)])) ?? .accepted
            members.append(
                MemberRecord(imageID: image.id, memberID: memberProject, status: status, createdAt: image.createdAt, updatedAt: image.createdAt))
        }
        allIDs.append(image.id)
        records.append(image)
    }
    try store.environment.write { txn in
        // Members first: `put` of a new image indexes the members it already has.
        for member in members { try catalog.members.put(member, in: txn) }
        for record in records { try catalog.index.put(record, previous: nil, in: txn) }
    }
    shares += members.count
    loaded += count
}
try store.environment.sync()
let loadSeconds =
    Double((ContinuousClock.now - loadStart).components.attoseconds) / 1e18 + Double((ContinuousClock.now - loadStart).components.seconds)
print(String(format: "loaded %d images (%d shared with %@) in %.1f s", imageCount, shares, memberProject, loadSeconds))

// MARK: Pages

let admin = Caller(projectID: "admin-project", userID: "admin", roles: ["admin", "member", "reader"])
let member = Caller(projectID: memberProject, userID: "user", roles: ["member", "reader"])

struct Scenario {
    let label: String
    let limit: Int
    let parameters: @MainActor () -> [(String, String)]
}

let scenarios = [
    Scenario(label: "default", limit: 25) { [] },
    Scenario(label: "status=active&visibility=public", limit: 25) { [("status", "active"), ("visibility", "public")] },
    Scenario(label: "name=X", limit: 25) { [("name", names.randomElement(using: &rng)!)] },
    Scenario(label: "tag=Y", limit: 25) { [("tag", tags.randomElement(using: &rng)!)] },
    // Two indexed filters, each far broader than their intersection (about 1,000 and 30,000
    // images, about 30 in both): the walk leapfrogs the two ranges.
    Scenario(label: "name=X&tag=Y", limit: 25) { [("name", names.randomElement(using: &rng)!), ("tag", tags.randomElement(using: &rng)!)] },
    Scenario(label: "default, limit=1000", limit: 1000) { [] },
    // Known slow spot for a non-admin (see `ImageCatalog.list`): other projects' shared images
    // are stepped through and screened by membership.
    Scenario(label: "visibility=shared", limit: 25) { [("visibility", "shared")] },
    Scenario(label: "visibility=shared&member_status=pending", limit: 25) { [("visibility", "shared"), ("member_status", "pending")] },
    // Other sort keys: a walk of the column's `images.by_sort` range.
    Scenario(label: "sort_key=name&sort_dir=asc", limit: 25) { [("sort_key", "name"), ("sort_dir", "asc")] },
    Scenario(label: "sort=size:desc", limit: 25) { [("sort", "size:desc")] },
    Scenario(label: "sort_key=updated_at&status=active", limit: 25) { [("sort_key", "updated_at"), ("status", "active")] },
]

func percentile(_ sorted: [Double], _ p: Double) -> Double {
    sorted[min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.up)) - 1)]
}

func milliseconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) * 1e3 + Double(duration.components.attoseconds) / 1e15
}

print("page latency over \(samples) samples each (half first pages, half after a random visible marker)")
print("| query | caller | p50 ms | p99 ms | max ms | mean rows |")
print("|---|---|---|---|---|---|")
for scenario in scenarios {
    for (callerName, caller) in [("admin", admin), ("member", member)] {
        var times: [Double] = []
        var rows = 0
        let runs = scenario.limit > 100 || scenario.label.contains("pending") ? max(100, samples / 10) : samples
        for i in 0..<(runs + 20) {
            var parameters = scenario.parameters() + [("limit", String(scenario.limit))]
            if i % 2 == 1 {
                // Any image the caller can see works as a marker (keyset pagination).
                let pool = caller.isAdmin ? allIDs : publicIDs
                parameters.append(("marker", pool.randomElement(using: &rng)!))
            }
            let query = try ImageQuery(parameters: parameters)
            let start = ContinuousClock.now
            let page = try catalog.list(query, caller: caller)
            let elapsed = milliseconds(ContinuousClock.now - start)
            if i >= 20 {  // the first ones warm the page cache
                times.append(elapsed)
                rows += page.images.count
            }
        }
        times.sort()
        print(
            String(
                format: "| %@ | %@ | %.2f | %.2f | %.2f | %.0f |", scenario.label, callerName, percentile(times, 0.5), percentile(times, 0.99),
                times.last!, Double(rows) / Double(times.count))
        )
    }
}

// MARK: Upgrade

// What opening a data directory from before `images.by_term` costs: the one-off build.
let rebuildStart = ContinuousClock.now
try store.environment.write { txn in try catalog.index.rebuildTerms(in: txn) }
try store.environment.sync()
print(
    String(
        format: "rebuilt images.by_term for %d images in %.1f s (one write transaction)", imageCount,
        milliseconds(ContinuousClock.now - rebuildStart) / 1000))
