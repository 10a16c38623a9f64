import Crypto
import Foundation

/// The access tokens logins have produced, so that one cannot open a second session: a callback URL
/// that leaks (a browser's history, a proxy's log) is worth nothing once its login completed, and
/// a token whose revocation failed at logout stays refused until it would have expired.
///
/// Only a SHA-256 digest of each token is kept, in a domain of its own, beside the spent login
/// states (``SpentLoginStateStore``).
public struct SpentCredentials: Sendable {
    let store: any SpentLoginStateStore
    /// How long a credential whose expiry the provider does not say is remembered.
    let unknownLifetime: TimeInterval
    private let now: @Sendable () -> Date

    /// - Parameter unknownLifetime: how long to remember a credential with no known expiry (at
    ///   least a session's absolute lifetime, so no session outlives its token's record).
    public init(store: any SpentLoginStateStore, unknownLifetime: TimeInterval, now: @escaping @Sendable () -> Date = Date.init) {
        self.store = store
        self.unknownLifetime = unknownLifetime
        self.now = now
    }

    /// The key a credential is remembered by: no token, and no login state, has the same one.
    static func key(for credentials: Credentials) -> Data {
        Data(SHA256.hash(data: Data(("gatehouse.spent-credential.v1:" + credentials.accessToken.value).utf8)))
    }

    private func expiry(of credentials: Credentials) -> Date {
        let date = now()
        return max(credentials.expiresAt ?? date, date.addingTimeInterval(unknownLifetime))
    }

    /// Marks what a login produced as used: `true` the first time, `false` when it opened a session before.
    func spend(_ credentials: Credentials) async throws -> Bool {
        try await store.spendCredential(Self.key(for: credentials), expiresAt: expiry(of: credentials))
    }

    /// Keeps `credentials` refused until they would have expired: their revocation failed.
    func deny(_ credentials: Credentials) async throws {
        try await store.denyCredential(Self.key(for: credentials), until: expiry(of: credentials))
    }
}
