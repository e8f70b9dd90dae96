/// The identity headers keystonemiddleware sets in front of a service.
package enum IdentityHeaders {
    /// `X-Roles`: comma-joined role names, each trimmed; empty names dropped. Not
    /// percent-decoded: a `%2C` is part of a role's name, not a separator.
    package static func roles(_ header: String) -> Set<String> {
        Set(header.split(separator: ",").map { String($0.trimmingSpaces) }.filter { !$0.isEmpty })
    }
}
