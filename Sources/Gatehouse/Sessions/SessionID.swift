import Crypto
import Foundation

/// The opaque identifier a browser holds in its session cookie: 256 random bits from the
/// system's CSPRNG, carried as unpadded base64url (43 characters).
///
/// Stores never see the identifier itself, only its ``storageKey`` (a SHA-256 digest), so a
/// leaked session table cannot be replayed as cookies. Printing an identifier shows a redaction.
public struct SessionID: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    static let byteCount = 32
    static let encodedLength = 43

    /// The cookie form of the identifier.
    public let cookieValue: String

    private init(cookieValue: String) {
        self.cookieValue = cookieValue
    }

    /// A fresh identifier from the system's cryptographically secure generator.
    public static func generate() -> SessionID {
        SessionID(cookieValue: Base64URL.encode(SecureRandom.bytes(byteCount)))
    }

    /// Accepts a cookie value only when it has the exact shape of an identifier we issue.
    public init?(cookieValue candidate: some StringProtocol) {
        guard candidate.utf8.count == Self.encodedLength,
            let bytes = Base64URL.decode(candidate), bytes.count == Self.byteCount
        else { return nil }
        self.cookieValue = String(candidate)
    }

    /// The key under which stores keep this session: SHA-256 of the identifier.
    public var storageKey: SessionKey {
        SessionKey(digest: Data(SHA256.hash(data: Data(cookieValue.utf8))))
    }

    public var description: String { "SessionID(redacted)" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: []) }
}

/// The stored form of a ``SessionID``: its SHA-256 digest. Safe to keep, useless as a cookie.
public struct SessionKey: Sendable, Hashable {
    /// Held in four words: a store of 100,000 sessions keeps no heap object per key.
    private let value: Digest

    /// The 32 digest bytes.
    public var digest: Data { value.data }

    /// - Parameter digest: 32 bytes (a SHA-256 digest).
    public init(digest: Data) {
        self.value = Digest(digest)
    }
}

/// Bytes from the system's cryptographically secure generator.
enum SecureRandom {
    /// `count` random bytes, drawn eight at a time.
    static func bytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count + 7)
        while bytes.count < count {
            withUnsafeBytes(of: generator.next() as UInt64) { bytes.append(contentsOf: $0) }
        }
        return Array(bytes.prefix(count))
    }
}

/// Unpadded base64url, the alphabet of RFC 4648 §5, for values that travel in cookies and URLs.
enum Base64URL {
    static func encode(_ bytes: some Sequence<UInt8>) -> String {
        // Foundation's base64, then the two letters that differ mapped byte by byte (this runs on every login).
        let base64 = Data(bytes).base64EncodedData()
        var encoded: [UInt8] = []
        encoded.reserveCapacity(base64.count)
        for byte in base64 where byte != UInt8(ascii: "=") {
            encoded.append(byte == UInt8(ascii: "+") ? UInt8(ascii: "-") : byte == UInt8(ascii: "/") ? UInt8(ascii: "_") : byte)
        }
        return String(decoding: encoded, as: UTF8.self)
    }

    static func decode(_ text: some StringProtocol) -> [UInt8]? {
        // Mapped byte by byte (this runs on every gated request), then decoded by Foundation.
        var base64: [UInt8] = []
        base64.reserveCapacity(text.utf8.count + 3)
        for byte in text.utf8 {
            guard isAlphabetByte(byte) else { return nil }
            base64.append(byte == UInt8(ascii: "-") ? UInt8(ascii: "+") : byte == UInt8(ascii: "_") ? UInt8(ascii: "/") : byte)
        }
        switch base64.count % 4 {
        case 0: break
        case 2: base64 += [UInt8(ascii: "="), UInt8(ascii: "=")]
        case 3: base64.append(UInt8(ascii: "="))
        default: return nil
        }
        return Data(base64Encoded: Data(base64)).map(Array.init)
    }

    private static func isAlphabetByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"):
            true
        default:
            false
        }
    }
}
