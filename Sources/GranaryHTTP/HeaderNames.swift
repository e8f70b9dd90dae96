public import HTTPTypes

/// The header names of both APIs that HTTPTypes does not declare, spelled once.
extension HTTPField.Name {
    // Identity (keystonemiddleware).
    public static let identityStatus = Self("X-Identity-Status")!  // checked: a valid literal name
    public static let roles = Self("X-Roles")!  // checked: a valid literal name
    public static let projectID = Self("X-Project-Id")!  // checked: a valid literal name
    public static let tenantID = Self("X-Tenant-Id")!  // checked: a valid literal name
    public static let userID = Self("X-User-Id")!  // checked: a valid literal name
    public static let authToken = Self("X-Auth-Token")!  // checked: a valid literal name
    public static let requestID = Self("x-openstack-request-id")!  // checked: a valid literal name
    // Glance.
    public static let contentMD5 = Self("Content-MD5")!  // checked: a valid literal name
    public static let acceptPatch = Self("Accept-Patch")!  // checked: a valid literal name
    public static let importMethods = Self("OpenStack-image-import-methods")!  // checked: a valid literal name
    public static let imageSize = Self("x-openstack-image-size")!  // checked: a valid literal name
    public static let metadefsAppend = Self("X-Openstack-Append")!  // checked: a valid literal name
    public static let cacheClearTarget = Self("x-image-cache-clear-target")!  // checked: a valid literal name
    // Glare.
    public static let glareSHA1 = Self("X-Openstack-Glare-Content-SHA1")!  // checked: a valid literal name
    public static let glareSHA256 = Self("X-Openstack-Glare-Content-SHA256")!  // checked: a valid literal name
    public static let reprDigest = Self("Repr-Digest")!  // checked: a valid literal name
}
