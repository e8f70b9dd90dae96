/// An image's status, as Glance names them (`glance/domain/__init__.py`). Stored and shown as
/// its raw value.
package enum ImageStatus: String, Codable, Sendable, CaseIterable, CustomStringConvertible {
    case queued, saving, uploading, importing, active, deactivated, killed, deleted
    case pendingDelete = "pending_delete"

    package var description: String { rawValue }
}

/// Glance's image state machine (`glance/domain/__init__.py`, `Image.status` and its
/// `valid_state_targets`): which status may follow which. The catalog asks it before every
/// status change, so a transition it does not list never reaches a record.
package enum ImageLifecycle {
    /// The statuses each status may move to.
    package static let transitions: [ImageStatus: Set<ImageStatus>] = [
        .queued: [.saving, .uploading, .importing, .active, .deleted],
        .saving: [.active, .killed, .deleted, .queued],
        .uploading: [.importing, .queued, .deleted],
        .importing: [.active, .deleted, .queued],
        .active: [.pendingDelete, .deleted, .deactivated],
        .killed: [.deleted],
        .pendingDelete: [.deleted, .active],
        .deactivated: [.active, .deleted],
        .deleted: [],
    ]

    package static func allows(_ from: ImageStatus, to: ImageStatus) -> Bool {
        from == to || transitions[from]?.contains(to) == true
    }

    /// A status change the machine does not allow reached the index: a bug in the caller, refused
    /// before anything is written (``ImageIndex/put(_:previous:in:)`` checks every record).
    package struct InvalidTransition: Error, Sendable, CustomStringConvertible {
        package let image: String
        package let from: ImageStatus
        package let to: ImageStatus
        package var description: String { "Image \(image) cannot go from '\(from)' to '\(to)'." }
    }
}

/// Who may see an image.
package enum ImageVisibility: String, Codable, Sendable, CaseIterable, CustomStringConvertible {
    case `public`, community, shared, `private`

    package var description: String { rawValue }
}

/// A member's answer to an image shared with its project.
package enum MemberStatus: String, Codable, Sendable, CaseIterable, CustomStringConvertible {
    case pending, accepted, rejected

    package var description: String { rawValue }
}
