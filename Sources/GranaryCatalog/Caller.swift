/// Who is asking, as the auth layer established it.
public struct Caller: Sendable, Equatable {
    public var projectID: String?
    public var userID: String?
    public var roles: Set<String>

    public init(projectID: String?, userID: String?, roles: Set<String>) {
        self.projectID = projectID
        self.userID = userID
        self.roles = Set(roles.map { $0.lowercased() })
    }

    /// Glance's noauth mode: every caller is an admin with no project (images get owner null).
    public static let noauthAdmin = Caller(projectID: nil, userID: nil, roles: ["admin"])

    public var isAdmin: Bool { roles.contains("admin") }
}
