import Foundation

/// A SHA-256 digest held in four words: a key of the session and spent tables without a heap
/// allocation of its own (a `Data` of 32 bytes costs two), which at 100,000 entries is megabytes.
struct Digest: Hashable, Sendable {
    private let words: (UInt64, UInt64, UInt64, UInt64)

    /// The first 32 bytes of `data` (zeros past its end: the callers' digests are 32 bytes).
    init(_ data: Data) {
        var padded = (UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        withUnsafeMutableBytes(of: &padded) { words in
            _ = data.prefix(32).copyBytes(to: words.bindMemory(to: UInt8.self))
        }
        words = padded
    }

    /// The 32 bytes.
    var data: Data {
        withUnsafeBytes(of: words) { Data($0) }
    }

    static func == (lhs: Digest, rhs: Digest) -> Bool {
        lhs.words == rhs.words
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(words.0)
        hasher.combine(words.1)
        hasher.combine(words.2)
        hasher.combine(words.3)
    }
}
