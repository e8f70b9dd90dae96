import GranaryIndex
import Testing

/// Glance's image state machine as a value: no LMDB, no HTTP.
@Suite struct ImageLifecycleTests {
    /// `glance/domain/__init__.py`'s `valid_state_targets`, written out.
    static let glance: [(ImageStatus, [ImageStatus])] = [
        (.queued, [.saving, .uploading, .importing, .active, .deleted]),
        (.saving, [.active, .killed, .deleted, .queued]),
        (.uploading, [.importing, .queued, .deleted]),
        (.importing, [.active, .deleted, .queued]),
        (.active, [.pendingDelete, .deleted, .deactivated]),
        (.killed, [.deleted]),
        (.pendingDelete, [.deleted, .active]),
        (.deactivated, [.active, .deleted]),
        (.deleted, []),
    ]

    @Test func everyTransitionIsGlancesAndNoOther() {
        for (from, targets) in Self.glance {
            for to in ImageStatus.allCases {
                #expect(ImageLifecycle.allows(from, to: to) == (to == from || targets.contains(to)), "\(from) → \(to)")
            }
        }
        #expect(Set(Self.glance.map(\.0)) == Set(ImageStatus.allCases))
    }

    @Test func statusesAreStoredUnderGlancesNames() {
        #expect(ImageStatus.pendingDelete.rawValue == "pending_delete")
        #expect("\(ImageStatus.pendingDelete)" == "pending_delete")
        #expect(ImageStatus(rawValue: "uploading") == .uploading)
        #expect(ImageVisibility(rawValue: "community") == .community)
        #expect(ImageStatus(rawValue: "bogus") == nil)
    }
}

/// Glare's artifact state machine as a value.
@Suite struct ArtifactLifecycleTests {
    @Test func movesAreGlares() {
        let allowed: Set<[ArtifactStatus]> = [[.drafted, .active], [.active, .deactivated], [.deactivated, .active]]
        for from in ArtifactStatus.allCases where from != .deleted {
            for to in ArtifactStatus.allCases where to != .deleted && to != from {
                #expect(ArtifactLifecycle.allows(from, to: to) == allowed.contains([from, to]), "\(from) → \(to)")
            }
        }
        #expect(ArtifactLifecycle.allows(.active, to: .drafted) == false)
        #expect(ArtifactLifecycle.transitions[.deleted] == [])
    }
}
