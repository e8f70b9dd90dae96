import Foundation
package import GranaryCodec
package import GranaryIndex
import GranaryLMDB
package import GranaryParsing
package import GranaryStore

/// Settings of the images API's domain.
package struct ImagesSettings: Sendable {
    /// Largest upload accepted (Glance's `image_size_cap`, default 1 TiB).
    package var imageSizeCap = 1 << 40
    /// The `os_hash_algo` of uploads (Glance's `hashing_algorithm`, default sha512).
    package var hashAlgorithm = DigestAlgorithm.sha512
    /// Whether to compute the legacy md5 `checksum` (clients then verify with `os_hash_value`).
    package var legacyChecksum = true
    /// Import methods offered (`/info/import`, the create response header): Glance's defaults
    /// without multi-store's copy-image; the server adds `glance-download` with Keystone auth.
    package var importMethods: [ImportMethod] = [.glanceDirect, .webDownload]
    /// Glance's `user_storage_quota`: bytes of image data (uploaded or staged) one owner may
    /// hold in all, counted on the images' sizes; 0: unlimited. Past it, an upload is a 413.
    package var userStorageQuota = 0
    /// Glance's `require_image_format_match`: the data of a `bare` image must be what its
    /// `disk_format` says, and pass that format's safety check (``InspectedImage``), else 415.
    package var requireFormatMatch = true
    /// Seconds a stage may wait for its import before it is released (default one day).
    package var stageTimeToLive = 86_400
    /// Seconds a finished task is kept visible (Glance's `task_time_to_live`, 48 h).
    package var taskTimeToLive = 48 * 3600
    /// Who may create, read, update and delete which custom properties (Glance's
    /// `property_protection_file`); nil: every caller who may change an image may change all.
    package var propertyProtections: PropertyProtections?

    package init() {}
}

/// The Glance image domain: lifecycles, visibility and ownership rules, data through the store.
/// No HTTP here: the API layer maps ``CatalogError`` codes to statuses.
package final class ImageCatalog: Sendable {
    package let store: BlobStore
    package let index: ImageIndex
    package let members: MemberIndex
    package let tasks: TaskIndex
    /// The metadata-definitions catalog beside the images (same store and environment).
    package let metadefs: MetadefCatalog
    package let settings: ImagesSettings
    /// The images queued for the page cache (``queueForCache(_:caller:)``).
    let cache = CacheRegistry()

    package init(store: BlobStore, settings: ImagesSettings = ImagesSettings()) throws {
        self.store = store
        self.index = try ImageIndex(environment: store.environment)
        self.members = try MemberIndex(environment: store.environment)
        self.tasks = try TaskIndex(environment: store.environment)
        self.metadefs = try MetadefCatalog(store: store)
        self.settings = settings
    }

    private var now: Int { UnixTime.now() }

    // MARK: Rules

    /// Whether `caller` may see `image` (Glance: glance/db/sqlalchemy/api.py, `_image_get` and `is_image_visible`): admins, the owner, everyone for public and
    /// community images and for images without owner, and members of shared images whatever
    /// their answer.
    func canSee(_ image: ImageRecord, _ caller: Caller, in txn: borrowing Transaction<some TransactionAccess>) throws -> Bool {
        if caller.isAdmin || image.owner == nil || image.owner == caller.projectID { return true }
        if image.visibility == .public || image.visibility == .community { return true }
        guard image.visibility == .shared, let project = caller.projectID else { return false }
        return try members.get(image.id, project, in: txn) != nil
    }

    /// Whether `caller` may change `image`: its owner or an admin.
    func canWrite(_ image: ImageRecord, _ caller: Caller) -> Bool {
        caller.isAdmin || (image.owner != nil && image.owner == caller.projectID) || (image.owner == nil && caller.projectID == nil)
    }

    /// Glance's role rules: `reader` (or admin) to read, `member` (or admin) to write.
    func requireRole(_ caller: Caller, write: Bool) throws {
        if caller.isAdmin { return }
        let role = write ? "member" : "reader"
        guard caller.roles.contains(role) else {
            throw CatalogError(.forbidden, "You are not authorized to complete this action (needs role '\(role)').")
        }
    }

    /// The image, if the caller may see it; 404 otherwise (never 403 for an invisible image).
    func visible(_ id: String, _ caller: Caller, in txn: borrowing Transaction<some TransactionAccess>) throws -> ImageRecord {
        try requireRole(caller, write: false)
        guard ImageRules.isUUID(id), let image = try index.get(id.lowercased(), in: txn), try canSee(image, caller, in: txn) else {
            throw CatalogError.notFound(image: id)
        }
        return image
    }

    /// `image` as `caller` may see it: without the custom properties the property protections
    /// do not let it read.
    func shown(_ image: ImageRecord, to caller: Caller) -> ImageRecord {
        guard let protections = settings.propertyProtections else { return image }
        var shown = image
        shown.properties = image.properties.filter { protections.allows(.read, $0.key, caller) }
        return shown
    }

    func writable(_ id: String, _ caller: Caller, in txn: borrowing Transaction<some TransactionAccess>) throws -> ImageRecord {
        try requireRole(caller, write: true)
        let image = try visible(id, caller, in: txn)
        guard canWrite(image, caller) else { throw CatalogError(.forbidden, "You are not permitted to modify image \(id).") }
        return image
    }

    // MARK: Records

    /// Creates an image from a create request (Glance: glance/api/v2/router.py; glance/api/v2/images.py, `get_base_properties`).
    package func create(_ body: [String: JSONValue], caller: Caller) async throws -> ImageRecord {
        var id = UUID().uuidString.lowercased()
        if let given = body["id"] {
            guard case .string(let text) = given, ImageRules.isUUID(text) else {
                throw CatalogError(.badRequest, "Invalid value for 'id': must be a UUID")
            }
            id = text.lowercased()
        }
        try requireRole(caller, write: true)
        var record = ImageRecord(id: id, owner: caller.projectID, now: now)
        try ImageRules.applyCreate(body, to: &record, caller: caller)
        if let protections = settings.propertyProtections {
            for key in record.properties.keys.sorted() where !protections.allows(.create, key, caller) {
                throw CatalogError(.forbidden, "Attribute '\(key)' is reserved.")
            }
        }
        let created = record
        let index = self.index
        let image = try await store.coordinator.submit { txn in
            guard try index.get(created.id, in: txn) == nil else {
                throw CatalogError(.conflict, "An image with identifier \(created.id) already exists")
            }
            try index.put(created, previous: nil, in: txn)
            return created
        }
        return shown(image, to: caller)
    }

    package func show(_ id: String, caller: Caller) throws -> ImageRecord {
        shown(try store.environment.read { txn in try visible(id, caller, in: txn) }, to: caller)
    }

    /// A page of the images `caller` may list under `query`; `more` when the page is full.
    ///
    /// The candidates come from the cheapest source that holds every listed image (see
    /// ``listSource(_:_:in:)``): an `id=` set, unions of a few `images.by_term` ranges (one per
    /// indexed filter and one for the caller's view, intersected), or all images. In the
    /// indexes' (created_at, id) order — the default, or `sort_key=created_at` — the source is
    /// walked from the marker and the walk stops once the page is full. Each candidate is
    /// checked against the whole query and the visibility rules (``isListed``), so a page costs
    /// the seeks of the intersection and the candidates it yields: the page itself when the
    /// indexed filters are the only ones, more when other filters reject candidates. A
    /// non-admin's default list walks public, own, unowned and shared-with-me images, never
    /// other projects' private or shared ones; shares with the wrong member status are skipped
    /// by a membership lookup without reading the record. A broad group of terms is intersected
    /// only where the records it saves reading outweigh its seeks (``paysToIntersect(_:_:of:)``):
    /// an admin's view (four ranges holding all but community images) is not.
    /// A list sorted by one other column (``ImageQuery/indexedSortOrder``) walks that column's
    /// `images.by_sort` range from the marker, checking each image against the whole query, when
    /// that reads fewer records than the source holds (``sortWalkPays(_:_:in:)``). Other sort
    /// orders, and sources small enough, read every candidate of the source, sort them in memory
    /// and start after the marker's place in that order (keyset paging, as Glance's, also for a
    /// marker that the filters reject).
    ///
    /// Under property protections, a filter on a property the caller may not read matches
    /// nothing (the property does not exist for that caller: its values are not to be probed).
    package func list(_ query: ImageQuery, caller: Caller) throws -> (images: [ImageRecord], more: Bool) {
        if let protections = settings.propertyProtections, query.filteredProperties.contains(where: { !protections.allows(.read, $0, caller) }) {
            try requireRole(caller, write: false)
            return ([], false)
        }
        let page = try list(query, caller: caller, scan: false)
        return (page.images.map { shown($0, to: caller) }, page.more)
    }

    /// When a list sorted by another column walks the sort index.
    enum SortWalk { case whenItPays, always }

    /// ``list(_:caller:)``, or with `scan` the reference path the indexes must reproduce: every
    /// image checked, sorted in memory (the differential tests compare the two).
    func list(_ query: ImageQuery, caller: Caller, scan: Bool, sortWalk: SortWalk = .whenItPays) throws -> (images: [ImageRecord], more: Bool) {
        try requireRole(caller, write: false)
        return try store.environment.read { txn in
            var markerRecord: ImageRecord?
            if let marker = query.marker {
                guard ImageRules.isUUID(marker), let found = try index.get(marker.lowercased(), in: txn), try canSee(found, caller, in: txn) else {
                    throw CatalogError(.badRequest, "marker not found: \(marker)")
                }
                markerRecord = found
            }
            guard query.limit > 0 else { return ([], true) }
            let source = scan ? .terms(nil) : try listSource(query, caller, in: txn)
            if !scan, case .terms(let groups) = source, let descending = query.createdOrderDescending {
                var page: [ImageRecord] = []
                let own: [ListTerm] = [.owner(nil)] + (caller.projectID.map { [ListTerm.owner($0)] } ?? [])
                let shares = caller.projectID.map(ListTerm.member)
                // The caller's view (public, own, unowned, shared with it), when it is walked.
                let view = caller.isAdmin ? nil : groups?.first { group in shares.map(group.contains) == true && own.allSatisfy(group.contains) }
                try index.walk(
                    matchingAll: groups, descending: descending, after: markerRecord, in: txn,
                    admit: { id, matched in
                        // Offered by the caller's shares alone, so neither own nor unowned (those
                        // ranges are in the walk too): listed only for the asked member status.
                        guard let view, let project = caller.projectID, matched.filter(view.contains) == [.member(project)] else { return true }
                        guard let member = try members.get(id, project, in: txn) else { return false }
                        return query.memberStatus == "all" || member.status.rawValue == query.memberStatus
                    }
                ) { image in
                    if try isListed(image, caller, query, in: txn) { page.append(image) }
                    return page.count < query.limit
                }
                return (page, page.count == query.limit)
            }
            if !scan, case .terms(let groups) = source, let order = query.indexedSortOrder,
                try sortWalk == .always || sortWalkPays(groups, query, in: txn)
            {
                var page: [ImageRecord] = []
                try index.walkSorted(by: order.column, descending: order.descending, after: markerRecord, in: txn) { group in
                    var listed = try group.filter { try isListed($0, caller, query, in: txn) }
                    if listed.count > 1 { listed.sort(by: query.precedes) }
                    for image in listed where markerRecord.map({ query.precedes($0, image) }) ?? true {
                        page.append(image)
                        if page.count == query.limit { return false }
                    }
                    return true
                }
                return (page, page.count == query.limit)
            }
            var all: [ImageRecord] = []
            switch source {
            case .ids(let ids):
                for id in ids {
                    if let image = try index.get(id, in: txn), try isListed(image, caller, query, in: txn) { all.append(image) }
                }
            case .terms(let groups):
                try index.walk(matchingAll: groups, descending: true, after: nil, in: txn, admit: { _, _ in true }) { image in
                    if try isListed(image, caller, query, in: txn) { all.append(image) }
                    return true
                }
            }
            all.sort(by: query.precedes)
            var start = all.startIndex
            if let markerRecord { start = all.firstIndex { query.precedes(markerRecord, $0) } ?? all.endIndex }
            let page = Array(all[start...].prefix(query.limit))
            return (page, page.count == query.limit)
        }
    }

    /// Whether walking a sort index beats sorting the source in memory: the walk reads about
    /// `limit × total / candidates` records before its page is full (when the listed images are
    /// spread evenly over the sort order), the in-memory sort reads every candidate.
    func sortWalkPays(_ groups: [[ListTerm]]?, _ query: ImageQuery, in txn: borrowing ReadTransaction) throws -> Bool {
        let total = try index.count(nil, in: txn)
        var candidates = total
        for group in groups ?? [] {
            var count = 0
            for term in Set(group) { count += try index.count(term, in: txn) }
            candidates = min(candidates, count)
        }
        return Double(candidates) * Double(candidates) > Double(query.limit) * Double(total)
    }

    /// Where a list's candidates come from.
    enum ListSource {
        /// The images of an `id=` filter, fetched one by one.
        case ids([String])
        /// The images carrying a term of every group (an AND of ORs); every image when nil.
        case terms([[ListTerm]]?)
    }

    /// The source with the fewest candidates that still holds every image ``isListed`` accepts
    /// for `query` and `caller`, by the term counts. Each eq/in filter on name, status or owner,
    /// each tag (they are ANDed), and what the visibility rules allow (for a non-admin's default
    /// list: public, own, unowned and shared-with-the-caller images) is an OR of terms that holds
    /// every listed image; the cheapest of them is walked, intersected with every other one whose
    /// seeks cost less than the record reads it saves (``paysToIntersect(_:_:of:)``).
    func listSource(_ query: ImageQuery, _ caller: Caller, in txn: borrowing ReadTransaction) throws -> ListSource {
        var options: [[ListTerm]] = []
        if let names = query.sets["name"] { options.append(names.map(ListTerm.name)) }
        if let statuses = query.sets["status"] { options.append(statuses.map(ListTerm.status)) }
        if let owner = query.equals["owner"] { options.append([.owner(owner)]) }
        for tag in query.tags { options.append([.tag(tag)]) }
        let own: [ListTerm] = [.owner(nil)] + (caller.projectID.map { [ListTerm.owner($0)] } ?? [])
        let shares: [ListTerm] = caller.projectID.map { [ListTerm.member($0)] } ?? []
        switch query.visibility {
        case nil where caller.isAdmin:
            options.append([.visibility("public"), .visibility("private"), .visibility("shared")] + (caller.projectID.map { [.owner($0)] } ?? []))
        case nil:
            options.append([.visibility("public")] + shares + own)
        case "all"? where caller.isAdmin:
            break
        case "all"?:
            options.append([.visibility("public"), .visibility("community")] + shares + own)
        case "private"? where !caller.isAdmin:
            options.append([.visibility("private")])
            options.append(own)
        case "shared"? where !caller.isAdmin:
            options.append([.visibility("shared")])
            options.append(shares + own)
        case let wanted?:
            options.append([.visibility(wanted)])
        }
        let total = try index.count(nil, in: txn)
        var costed: [(terms: [ListTerm], cost: Int)] = []
        for terms in options {
            var cost = 0
            for term in Set(terms) { cost += try index.count(term, in: txn) }
            costed.append((terms, cost))
        }
        costed.sort { $0.cost < $1.cost }
        if let ids = query.sets["id"] {
            let valid = ids.filter(ImageRules.isUUID).sorted()
            if valid.count < min(total, costed.first?.cost ?? total) { return .ids(valid) }
        }
        guard let cheapest = costed.first, cheapest.cost < total else { return .terms(nil) }
        return .terms([cheapest.terms] + costed.dropFirst().filter { Self.paysToIntersect(Set($0.terms).count, $0.cost, of: total) }.map(\.terms))
    }

    /// Reading and decoding a candidate's record (~11 µs at 1M images) costs about ten
    /// `images.by_term` seeks (~1 µs each, one per term of a group per candidate).
    static let recordReadInSeeks = 10.0

    /// Whether leapfrogging with a group of `terms` ranges holding `cost` of `total` images saves
    /// more than it costs: it rejects (1 − cost/total) of the candidates without reading their
    /// records and costs a seek per term for each. So a narrow group always pays, and a broad
    /// one (`status=active`, say) pays when it rejects enough: its leapfrog then skips the
    /// images it lacks, and a selective combination of broad filters seeks instead of reading.
    static func paysToIntersect(_ terms: Int, _ cost: Int, of total: Int) -> Bool {
        guard total > 0 else { return false }
        return (1 - Double(cost) / Double(total)) * recordReadInSeeks >= Double(terms)
    }

    /// Whether `image` is in `caller`'s list under the query's `visibility` and `member_status`
    /// (Glance: glance/api/v2/images.py, `RequestDeserializer.index`): by default own images, public ones, and shared ones whose membership has
    /// the asked status; other people's community images only with `visibility=community`.
    func isListed(_ image: ImageRecord, _ caller: Caller, _ query: ImageQuery, in txn: borrowing Transaction<some TransactionAccess>) throws -> Bool {
        guard image.status != .killed, query.matches(image) else { return false }
        let own = image.owner != nil && image.owner == caller.projectID
        let unowned = image.owner == nil
        func memberOK() throws -> Bool {
            guard image.visibility == .shared, let project = caller.projectID, !own else { return false }
            guard let member = try members.get(image.id, project, in: txn) else { return false }
            return query.memberStatus == "all" || member.status.rawValue == query.memberStatus
        }
        switch query.visibility {
        case nil:
            if image.visibility == .community { return own }
            return try own || unowned || caller.isAdmin || image.visibility == .public || memberOK()
        case "community"?:
            return image.visibility == .community
        case "all"?:
            return try own || unowned || caller.isAdmin || image.visibility == .public || image.visibility == .community || memberOK()
        case let wanted?:
            guard image.visibility.rawValue == wanted else { return false }
            return try own || unowned || caller.isAdmin || wanted == "public" || (wanted == "shared" && memberOK())
        }
    }

    /// Deletes the image and releases its data in the same transaction (Glance: glance/domain/__init__.py and glance/api/v2/image_data.py).
    package func delete(_ id: String, caller: Caller) async throws {
        let store = self.store
        try await store.coordinator.submit { txn in
            let image = try self.writable(id, caller, in: txn)
            if image.protected { throw CatalogError(.forbidden, "Image \(id) is protected and cannot be deleted.") }
            try self.index.delete(image, in: txn)
            for member in try self.members.all(of: image.id, in: txn) { try self.members.delete(image.id, member.memberID, in: txn) }
            try self.tasks.removeAll(of: image.id, in: txn)
            for blob in [image.blob, image.staged?.blob].compactMap({ $0.flatMap(SHA256Key.init(hex:)) }) {
                _ = try store.release(blob, in: txn)
            }
        }
    }

    /// Moves an image between `active` and `deactivated` (Glance: glance/domain/__init__.py and glance/api/v2/image_data.py).
    package func setActive(_ id: String, _ active: Bool, caller: Caller) async throws {
        let now = self.now
        try await store.coordinator.submit { txn in
            var image = try self.writable(id, caller, in: txn)
            let previous = image
            switch (image.status, active) {
            case (.active, true), (.deactivated, false): return
            case (.deactivated, true): image.status = .active
            case (.active, false): image.status = .deactivated
            default:
                throw CatalogError(.forbidden, "Not allowed to \(active ? "reactivate" : "deactivate") image in status '\(image.status)'")
            }
            image.updatedAt = now
            try self.index.put(image, previous: previous, in: txn)
        }
    }

    /// Adds or removes a tag (Glance: glance/api/v2/router.py).
    package func setTag(_ id: String, _ tag: String, present: Bool, caller: Caller) async throws {
        guard tag.count <= 255 else { throw CatalogError(.badRequest, "Tag is longer than 255 characters.") }
        let now = self.now
        try await store.coordinator.submit { txn in
            var image = try self.writable(id, caller, in: txn)
            let previous = image
            if present {
                if image.tags.contains(tag) { return }
                guard image.tags.count < ImageRules.tagQuota else {
                    throw CatalogError(.payloadTooLarge, "Maximum number of tags (\(ImageRules.tagQuota)) exceeded.")
                }
                image.tags.append(tag)
            } else {
                guard let at = image.tags.firstIndex(of: tag) else { throw CatalogError(.notFound, "Tag \(tag) not found") }
                image.tags.remove(at: at)
            }
            image.updatedAt = now
            try self.index.put(image, previous: previous, in: txn)
        }
    }
}
