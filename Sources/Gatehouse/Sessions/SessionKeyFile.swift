import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The file that holds the session encryption key when the configuration does not give one:
/// 32 random bytes, base64, created once with mode 0600 next to the session database.
public enum SessionKeyFile {
    /// Why the key file could not be used.
    public struct Problem: Error, CustomStringConvertible {
        public let description: String
    }

    /// Reads the key at `path`, creating it first if there is none.
    public static func loadOrCreate(at path: String) throws -> Data {
        if let key = try read(at: path) { return key }
        do {
            try create(at: path)
        } catch let error as Problem where FileManager.default.fileExists(atPath: path) {
            // Another process created it first; theirs is the key.
            _ = error
        }
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

    private static func read(at path: String) throws -> Data? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        if let permissions = attributes[.posixPermissions] as? Int, permissions & 0o077 != 0 {
            throw Problem(description: "the session key file \(path) is readable by other users; run `chmod 600 \(path)`")
        }
        let text = try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let key = Data(base64Encoded: text), key.count == 32 else {
            throw Problem(description: "the session key file \(path) does not hold 32 bytes of base64; delete it to have a new key made (every session ends)")
        }
        return key
    }

    private static func create(at path: String) throws {
        var generator = SystemRandomNumberGenerator()
        let key = Data((0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard descriptor >= 0 else {
            throw Problem(description: "could not create the session key file \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        let contents = Array((key.base64EncodedString() + "\n").utf8)
        let written = contents.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        guard written == contents.count else {
            throw Problem(description: "could not write the session key file \(path)")
        }
    }
}
