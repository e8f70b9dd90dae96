/// An artifact's status, as Glare names them (`glare/objects/base.py`). Stored and shown as its
/// raw value.
package enum ArtifactStatus: String, Codable, Sendable, CaseIterable, CustomStringConvertible {
    case drafted, active, deactivated, deleted

    package var description: String { rawValue }
}

/// Glare's artifact state machine: drafted → active, active ⇄ deactivated; deletion is a
/// DELETE, and nothing returns to drafted. Who may make each move (activation by the owner,
/// deactivation by admins) is the catalog's rule; which moves exist is this one.
package enum ArtifactLifecycle {
    package static let transitions: [ArtifactStatus: Set<ArtifactStatus>] = [
        .drafted: [.active, .deleted],
        .active: [.deactivated, .deleted],
        .deactivated: [.active, .deleted],
        .deleted: [],
    ]

    package static func allows(_ from: ArtifactStatus, to: ArtifactStatus) -> Bool {
        from == to || transitions[from]?.contains(to) == true
    }
}
