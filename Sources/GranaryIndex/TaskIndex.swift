import Foundation
package import GranaryLMDB

/// A Glance task: the record of one asynchronous import (`api_image_import`), as
/// `GET /v2/images/{id}/tasks` shows it and tempest checks it (status, request id, input).
package struct TaskRecord: Codable, Sendable, Equatable {
    package var id: String
    package var type: String
    /// pending, processing, success or failure.
    package var status: String
    package var owner: String?
    package var imageID: String
    package var requestID: String?
    package var userID: String?
    /// The import request as the client sent it, as JSON text (shown as `input.import_req`).
    package var input: String
    package var message: String
    package var createdAt: Int
    package var updatedAt: Int
    /// Set when the task finishes: finish time plus the task time-to-live.
    package var expiresAt: Int?

    package init(
        id: String, type: String, owner: String?, imageID: String, requestID: String?, userID: String?, input: String, now: Int
    ) {
        self.id = id
        self.type = type
        self.status = "pending"
        self.owner = owner
        self.imageID = imageID
        self.requestID = requestID
        self.userID = userID
        self.input = input
        self.message = ""
        self.createdAt = now
        self.updatedAt = now
    }
}

/// Tasks in LMDB.
///
/// | database | key | value |
/// |---|---|---|
/// | `tasks` | task id | ``TaskRecord`` as JSON |
/// | `tasks.by_image` | image id, 0x00, created_at (8 bytes big-endian), task id | empty |
///
/// An image's tasks, oldest first, are one range seek on the image id.
package struct TaskIndex: Sendable {
    let tasks: Database
    let byImage: Database

    package init(environment: Environment) throws {
        tasks = try environment.openDatabase("tasks")
        byImage = try environment.openDatabase("tasks.by_image")
    }

    static func prefix(_ imageID: String) -> [UInt8] { Array(imageID.utf8) + [0] }

    static func imageKey(_ task: TaskRecord) -> [UInt8] {
        prefix(task.imageID) + withUnsafeBytes(of: UInt64(max(0, task.createdAt)).bigEndian, Array.init) + Array(task.id.utf8)
    }

    package func get(_ id: String, in txn: borrowing Transaction<some TransactionAccess>) throws -> TaskRecord? {
        try txn.value(tasks, Array(id.utf8)).map { try JSONDecoderBox.decode(TaskRecord.self, $0) }
    }

    /// Stores `task` (new or updated; its image and creation time never change).
    package func put(_ task: TaskRecord, in txn: borrowing WriteTransaction) throws {
        try txn.put(tasks, Array(task.id.utf8), try JSONDecoderBox.encode(task))
        try txn.put(byImage, Self.imageKey(task), [])
    }

    /// Every task of `imageID`, oldest first.
    package func all<Access: TransactionAccess>(of imageID: String, in txn: borrowing Transaction<Access>) throws -> [TaskRecord] {
        let prefix = Self.prefix(imageID)
        var ids: [String] = []
        try txn.forEach(byImage, from: prefix) { key, _ in
            guard key.starts(with: prefix) else { return false }
            ids.append(String(decoding: key.dropFirst(prefix.count + 8), as: UTF8.self))
            return true
        }
        return try ids.compactMap { try get($0, in: txn) }
    }

    /// Every task, in no particular order (the tasks API sorts; tasks are few).
    package func all<Access: TransactionAccess>(in txn: borrowing Transaction<Access>) throws -> [TaskRecord] {
        var result: [TaskRecord] = []
        try txn.forEach(tasks) { _, value in
            result.append(try JSONDecoderBox.decode(TaskRecord.self, Array(value)))
            return true
        }
        return result
    }

    /// Removes every task of `imageID` (with the image itself).
    package func removeAll(of imageID: String, in txn: borrowing WriteTransaction) throws {
        for task in try all(of: imageID, in: txn) {
            try txn.delete(tasks, Array(task.id.utf8))
            try txn.delete(byImage, Self.imageKey(task))
        }
    }
}
