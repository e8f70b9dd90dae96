import Foundation
package import GranaryLMDB

/// An image member (a project an image is shared with) and its answer.
package struct MemberRecord: Codable, Sendable, Equatable {
    package var imageID: String
    package var memberID: String
    package var status: MemberStatus
    package var createdAt: Int
    package var updatedAt: Int

    package init(imageID: String, memberID: String, status: MemberStatus, createdAt: Int, updatedAt: Int) {
        self.imageID = imageID
        self.memberID = memberID
        self.status = status
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// Image members in LMDB.
///
/// | database | key | value |
/// |---|---|---|
/// | `image.members` | image id, 0x00, member id (``KeySegment``) | ``MemberRecord`` as JSON |
///
/// An image's members are one range seek on the image id. The images shared with a project are
/// the `.member` term of ``ImageIndex`` (kept by ``ImageIndex/addMember(_:to:in:)``).
package struct MemberIndex: Sendable {
    static let databaseName = "image.members"
    let members: Database

    package init(environment: Environment) throws {
        members = try environment.openDatabase(Self.databaseName)
    }

    static func prefix(_ imageID: String) -> [UInt8] { Array(imageID.utf8) + [0] }

    static func key(_ imageID: String, _ memberID: String) -> [UInt8] {
        prefix(imageID) + KeySegment.encode(memberID)
    }

    package func get(_ imageID: String, _ memberID: String, in txn: borrowing Transaction<some TransactionAccess>) throws -> MemberRecord? {
        try txn.value(members, Self.key(imageID, memberID)).map { try JSONDecoderBox.decode(MemberRecord.self, $0) }
    }

    package func put(_ member: MemberRecord, in txn: borrowing WriteTransaction) throws {
        try txn.put(members, Self.key(member.imageID, member.memberID), try JSONDecoderBox.encode(member))
    }

    package func delete(_ imageID: String, _ memberID: String, in txn: borrowing WriteTransaction) throws {
        try txn.delete(members, Self.key(imageID, memberID))
    }

    /// Every member of `imageID`, in member id order.
    package func all<Access: TransactionAccess>(of imageID: String, in txn: borrowing Transaction<Access>) throws -> [MemberRecord] {
        let prefix = Self.prefix(imageID)
        var result: [MemberRecord] = []
        try txn.forEach(members, from: prefix) { key, value in
            guard key.starts(with: prefix) else { return false }
            result.append(try JSONDecoderBox.decode(MemberRecord.self, Array(value)))
            return true
        }
        return result
    }
}

enum JSONDecoderBox {
    static func decode<T: Decodable>(_ type: T.Type, _ bytes: [UInt8]) throws -> T {
        try JSONDecoder().decode(type, from: Data(bytes))
    }

    static func encode(_ value: some Encodable) throws -> [UInt8] {
        Array(try JSONEncoder().encode(value))
    }
}
