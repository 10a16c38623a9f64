import Foundation

/// A provider's JWKS document (RFC 7517), read for the keys that may sign ID tokens. The key
/// material itself is left to the verifier (jwt-kit); this decides which keys it is given.
public enum JSONWebKeySet {
    /// One signing key of the set.
    public struct SigningKey: Sendable, Equatable {
        /// The key's `kid`, or a name of its own when it has none.
        public let keyID: String
        /// The algorithm the key declares (`alg`), when it does.
        public let algorithm: String?
        /// The key's JSON object, `kid` included.
        public let json: Data
    }

    /// The most keys read from one document.
    public static let maximumKeys = 100

    /// The keys that may sign: `use` absent or `sig`, `kty` RSA or EC, and `alg`, when given, one
    /// of ``CompactJWT/acceptedAlgorithms``. A key without `kid` is named
    /// `gatehouse-unnamed-key-N` after its place in the set.
    public static func signingKeys(in body: Data) throws(ProviderError) -> [SigningKey] {
        guard let document = try? JSONValue(parsing: body), let entries = document["keys"]?.arrayValue else {
            throw .badResponse(reason: "the provider's key set is not a JWKS document")
        }
        var keys: [SigningKey] = []
        var seen: Set<String> = []
        for (index, entry) in entries.prefix(maximumKeys).enumerated() {
            guard var members = entry.objectValue, ["RSA", "EC"].contains(members["kty"]?.stringValue ?? ""),
                members["use"].map({ $0.stringValue == "sig" }) ?? true
            else { continue }
            let algorithm = members["alg"]?.stringValue
            if members["alg"] != nil, !(algorithm.map(CompactJWT.acceptedAlgorithms.contains) ?? false) { continue }
            let keyID = members["kid"]?.stringValue ?? "gatehouse-unnamed-key-\(index)"
            guard !keyID.isEmpty, seen.insert(keyID).inserted else { continue }
            members["kid"] = .string(keyID)
            keys.append(SigningKey(keyID: keyID, algorithm: algorithm, json: JSONValue.object(members).encoded()))
        }
        guard !keys.isEmpty else { throw .badResponse(reason: "the provider's key set holds no usable signing key") }
        return keys
    }
}
