import Foundation
package import GranaryIndex
import GranaryLMDB
import GranaryStore

extension ImageCatalog {
    static let memberQuota = 128

    /// Shares an image with a project (Glance: glance/api/v2/router.py): owner or admin, shared images only.
    package func addMember(_ id: String, member: String, caller: Caller) async throws -> MemberRecord {
        guard !member.isEmpty, member.count <= 255 else { throw CatalogError(.badRequest, "Member to be added not specified") }
        let now = UnixTime.now()
        return try await store.coordinator.submit { txn in
            let image = try self.writable(id, caller, in: txn)
            guard image.visibility == .shared else { throw CatalogError(.forbidden, "Only shared images have members.") }
            if try self.members.get(image.id, member, in: txn) != nil {
                throw CatalogError(.conflict, "Member \(member) already has access to image \(image.id).")
            }
            guard try self.members.all(of: image.id, in: txn).count < Self.memberQuota else {
                throw CatalogError(.payloadTooLarge, "Maximum number of image members (\(Self.memberQuota)) exceeded.")
            }
            let record = MemberRecord(imageID: image.id, memberID: member, status: .pending, createdAt: now, updatedAt: now)
            try self.members.put(record, in: txn)
            try self.index.addMember(member, to: image, in: txn)
            return record
        }
    }

    /// The members the caller may see: all for the owner or an admin, only their own for a member.
    package func listMembers(_ id: String, caller: Caller) throws -> [MemberRecord] {
        try store.environment.read { txn in
            let image = try visible(id, caller, in: txn)
            guard image.visibility == .shared else { throw CatalogError(.forbidden, "Only shared images have members.") }
            let all = try members.all(of: image.id, in: txn)
            if canWrite(image, caller) { return all }
            return all.filter { $0.memberID == caller.projectID }
        }
    }

    package func getMember(_ id: String, member: String, caller: Caller) throws -> MemberRecord {
        let visibleMembers = try? listMembers(id, caller: caller)
        guard let record = visibleMembers?.first(where: { $0.memberID == member }) else {
            throw CatalogError(.notFound, "Member \(member) not found for image \(id)")
        }
        return record
    }

    /// A member accepts, rejects or resets its share: only the member project itself, or an admin.
    package func setMemberStatus(_ id: String, member: String, status: String, caller: Caller) async throws -> MemberRecord {
        guard let status = MemberStatus(rawValue: status) else {
            throw CatalogError(.badRequest, "Invalid status \(status): use pending, accepted or rejected")
        }
        let now = UnixTime.now()
        return try await store.coordinator.submit { txn in
            let image = try self.visible(id, caller, in: txn)
            guard var record = try self.members.get(image.id, member, in: txn) else {
                throw CatalogError(.notFound, "Member \(member) not found for image \(id)")
            }
            guard caller.isAdmin || caller.projectID == member else {
                throw CatalogError(.forbidden, "Only the member \(member) can change its status.")
            }
            record.status = status
            record.updatedAt = now
            try self.members.put(record, in: txn)
            return record
        }
    }

    package func removeMember(_ id: String, member: String, caller: Caller) async throws {
        try await store.coordinator.submit { txn in
            let image = try self.writable(id, caller, in: txn)
            guard try self.members.get(image.id, member, in: txn) != nil else {
                throw CatalogError(.notFound, "Member \(member) not found for image \(id)")
            }
            try self.members.delete(image.id, member, in: txn)
            try self.index.removeMember(member, from: image, in: txn)
        }
    }
}
