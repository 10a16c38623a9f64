import Foundation
import SystemPackage

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The file that holds the session encryption key when the configuration does not give one:
/// 32 random bytes, base64, created once with mode 0600 next to the session database.
///
/// The key is written to a temporary file and linked into place, so a process starting at the
/// same moment reads either no key or the finished one, never half of it; the first link wins
/// and every process uses that key. The file is checked on the descriptor it is read through: a
/// regular file, owned by this user, readable by no one else.
public enum SessionKeyFile {
    /// Why the key file could not be used.
    public struct Problem: Error, CustomStringConvertible {
        public let description: String
    }

    /// Reads the key at `path`, creating it first if there is none.
    public static func loadOrCreate(at path: String) throws -> Data {
        if let key = try read(at: path) { return key }
        try create(at: path)
        guard let key = try read(at: path) else {
            throw Problem(description: "could not read the session key file \(path) after creating it")
        }
        return key
    }

    /// Reads the key at `path`; a problem when there is none (tools that must not make a new key).
    public static func load(at path: String) throws -> Data {
        guard let key = try read(at: path) else {
            throw Problem(description: "there is no session key file at \(absolute(path)); point sessions.keyFile (or sessions.encryptionKey) at the gateway's")
        }
        return key
    }

    /// `path` made absolute against the working directory, for messages.
    static func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }

    /// The key, or `nil` when there is no file at `path`.
    private static func read(at path: String) throws -> Data? {
        let descriptor: FileDescriptor
        do {
            descriptor = try FileDescriptor.open(FilePath(path), .readOnly, options: [.noFollow, .closeOnExec])
        } catch .noSuchFileOrDirectory {
            return nil
        } catch {
            throw Problem(description: "could not open the session key file \(path): \(error)")
        }
        return try descriptor.closeAfter { () throws(Problem) -> Data in
            let status: Stat
            do {
                status = try descriptor.stat()
            } catch {
                throw Problem(description: "could not read the session key file \(path): \(error)")
            }
            guard status.type == .regular else { throw Problem(description: "the session key file \(path) is not a regular file") }
            guard status.userID.rawValue == geteuid() else {
                throw Problem(description: "the session key file \(path) belongs to another user; it must be the gateway's own")
            }
            guard status.permissions.isDisjoint(with: [.groupReadWriteExecute, .otherReadWriteExecute]) else {
                throw Problem(description: "the session key file \(path) is readable by other users; run `chmod 600 \(path)`")
            }
            var bytes = [UInt8](repeating: 0, count: 256)
            let count = (try? bytes.withUnsafeMutableBytes { try descriptor.read(into: $0) }) ?? 0
            let text = String(decoding: bytes.prefix(count), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard let key = Data(base64Encoded: text), key.count == 32 else {
                throw Problem(
                    description: "the session key file \(path) does not hold 32 bytes of base64; delete it to have a new key made (every session ends)"
                )
            }
            return key
        }
    }

    /// Writes a new key to a temporary file beside `path` and links it into place; when another
    /// process linked its key first, that one stays.
    private static func create(at path: String) throws {
        var generator = SystemRandomNumberGenerator()
        let key = Data((0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
        var template = Array("\(path).tmp-XXXXXX".utf8CString)
        let descriptor = mkstemp(&template)  // mode 0600
        guard descriptor >= 0 else {
            throw Problem(description: "could not create the session key file \(path): \(String(cString: strerror(errno)))")
        }
        let temporary = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        defer { unlink(temporary) }
        let contents = Array((key.base64EncodedString() + "\n").utf8)
        let written = contents.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        let synced = fsync(descriptor) == 0
        close(descriptor)
        guard written == contents.count, synced else {
            throw Problem(description: "could not write the session key file \(path)")
        }
        if link(temporary, path) != 0, errno != EEXIST {
            throw Problem(description: "could not create the session key file \(path): \(String(cString: strerror(errno)))")
        }
    }
}
