import Foundation
import JWTKit
import NIOFoundationCompat
import NIOHTTP1

/// The provider's signing keys (its JWKS), and the signature check of its ID tokens.
///
/// The key set is fetched when first needed, and again when a token names a key it does not hold
/// (the provider rotated its keys); such refetches happen at most once per `refetchInterval`, so
/// tokens naming made-up keys cannot make the gateway hammer the provider. The set is also
/// refreshed when older than `maximumAge`. Verification is jwt-kit's; Gatehouse first makes sure the header names
/// an accepted algorithm (``CompactJWT``) and, when the key declares its algorithm, that one.
actor OpenIDSigningKeys {
    private let transport: ProviderTransport
    private let refetchInterval: Duration
    private let maximumAge: Duration
    private var keys: JWTKeyCollection?
    /// The keys held, by `kid`, with the algorithm each declares (`nil`: any accepted one).
    private var declared: [String: String?] = [:]
    private var fetchedAt: ContinuousClock.Instant?
    /// When a token naming an unknown key last made the set be fetched again.
    private var refetchedForUnknownKey: ContinuousClock.Instant?
    private var fetching: Task<ProviderError?, Never>?

    init(transport: ProviderTransport, refetchInterval: Duration = .seconds(30), maximumAge: Duration = .seconds(3600)) {
        self.transport = transport
        self.refetchInterval = refetchInterval
        self.maximumAge = maximumAge
    }

    /// Throws a refused-token error unless `token`'s signature verifies with one of the keys at
    /// `jwksURI`. `header` is the token's, already decoded and checked by ``CompactJWT``.
    func verify(_ token: String, header: CompactJWT.Header, jwksURI: String) async throws(ProviderError) {
        let now = ContinuousClock.now
        if keys == nil || fetchedAt.map({ now - $0 >= maximumAge }) == true {
            try await fetch(jwksURI)
        }
        if let kid = header.kid, declared[kid] == nil, refetchedForUnknownKey.map({ now - $0 >= refetchInterval }) ?? true {
            // An unknown key: the provider may have rotated. Ask again, but not too often.
            refetchedForUnknownKey = now
            try await fetch(jwksURI)
        }
        guard let keys else { throw .badResponse(reason: "the provider's key set holds no usable signing key") }
        if let kid = header.kid {
            guard let algorithm = declared[kid] else { throw CompactJWT.rejected("names a key the provider does not publish (kid)") }
            if let algorithm, algorithm != header.alg {
                throw CompactJWT.rejected("names an algorithm its key is not for")
            }
        } else if declared.count != 1 {
            throw CompactJWT.rejected("names no key (kid) while the provider publishes several")
        }
        do {
            _ = try await keys.verify(token, as: SignatureOnly.self)
        } catch {
            throw CompactJWT.rejected("has a signature that does not verify")
        }
    }

    /// Fetches the key set (one fetch for everyone who asks meanwhile); throws when there is
    /// still no key set afterwards.
    private func fetch(_ jwksURI: String) async throws(ProviderError) {
        let task: Task<ProviderError?, Never>
        if let fetching {
            task = fetching
        } else {
            task = Task { await self.load(jwksURI) }
            fetching = task
        }
        let failure = await task.value
        fetching = nil
        if let failure, keys == nil { throw failure }
    }

    /// Fetches and installs the key set; the error when it could not.
    private func load(_ jwksURI: String) async -> ProviderError? {
        fetchedAt = .now
        do {
            let answer = try await transport.get(jwksURI, headers: ["Accept": "application/json"])
            guard (200..<300).contains(answer.status) else {
                return answer.status == 429 ? .rateLimited() : .badResponse(reason: "the provider's key set answered HTTP \(answer.status)")
            }
            let (collection, declared) = try await Self.keySet(from: Data(buffer: answer.body))
            self.keys = collection
            self.declared = declared
            return nil
        } catch let error as ProviderError {
            return error
        } catch {
            return .badResponse(reason: "the provider's key set could not be read")
        }
    }

    /// The signing keys of a JWKS document (``JSONWebKeySet``), each added to a key collection
    /// when jwt-kit can verify with it; the others are skipped.
    static func keySet(from body: Data) async throws -> (JWTKeyCollection, [String: String?]) {
        let collection = JWTKeyCollection()
        var declared: [String: String?] = [:]
        for key in try JSONWebKeySet.signingKeys(in: body) {
            guard let jwk = try? JSONDecoder().decode(JWK.self, from: key.json), (try? await collection.add(jwk: jwk)) != nil else { continue }
            declared[key.keyID] = key.algorithm
        }
        guard !declared.isEmpty else {
            throw ProviderError.badResponse(reason: "the provider's key set holds no key this gateway can verify with")
        }
        return (collection, declared)
    }

    /// A payload that reads nothing: jwt-kit checks the signature, Gatehouse the claims.
    private struct SignatureOnly: JWTPayload {
        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }
}
