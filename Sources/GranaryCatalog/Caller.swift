/// Who is asking, as the auth layer established it.
package struct Caller: Sendable, Equatable {
    package var projectID: String?
    package var userID: String?
    package var roles: Set<String>

    package init(projectID: String?, userID: String?, roles: Set<String>) {
        self.projectID = projectID
        self.userID = userID
        self.roles = Set(roles.map { $0.lowercased() })
    }

    /// Glance's noauth mode: every caller is an admin with no project (images get owner null).
    package static let noauthAdmin = Caller(projectID: nil, userID: nil, roles: ["admin"])

    package var isAdmin: Bool { roles.contains("admin") }
}
