import Foundation

/// Timestamps of records: whole seconds since 1970 from the server's clock.
package enum UnixTime {
    package static func now() -> Int {
        Int(Date().timeIntervalSince1970)  // checked: the clock, not request input, and far within Int
    }
}
