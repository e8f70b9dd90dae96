package import HTTPTypes

/// The header names of both APIs that HTTPTypes does not declare, spelled once.
extension HTTPField.Name {
    // Identity (keystonemiddleware).
    package static let identityStatus = Self("X-Identity-Status")!  // checked: a valid literal name
    package static let roles = Self("X-Roles")!  // checked: a valid literal name
    package static let projectID = Self("X-Project-Id")!  // checked: a valid literal name
    package static let tenantID = Self("X-Tenant-Id")!  // checked: a valid literal name
    package static let userID = Self("X-User-Id")!  // checked: a valid literal name
    package static let authToken = Self("X-Auth-Token")!  // checked: a valid literal name
    package static let requestID = Self("x-openstack-request-id")!  // checked: a valid literal name
    // Glance.
    package static let contentMD5 = Self("Content-MD5")!  // checked: a valid literal name
    package static let acceptPatch = Self("Accept-Patch")!  // checked: a valid literal name
    package static let importMethods = Self("OpenStack-image-import-methods")!  // checked: a valid literal name
    package static let imageSize = Self("x-openstack-image-size")!  // checked: a valid literal name
    package static let metadefsAppend = Self("X-Openstack-Append")!  // checked: a valid literal name
    package static let cacheClearTarget = Self("x-image-cache-clear-target")!  // checked: a valid literal name
    // Glare.
    package static let glareSHA1 = Self("X-Openstack-Glare-Content-SHA1")!  // checked: a valid literal name
    package static let glareSHA256 = Self("X-Openstack-Glare-Content-SHA256")!  // checked: a valid literal name
    package static let reprDigest = Self("Repr-Digest")!  // checked: a valid literal name
}
