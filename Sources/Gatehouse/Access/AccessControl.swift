/// The access settings in force, taken whole from a configuration (and from each reload): the
/// policy, where the provider's profile keeps what rules read, which proxies are believed, and
/// whether the app gets the access token.
public struct AccessControl: Sendable, Equatable {
    public var policy: AccessPolicy
    public let claims: ProfileClaimNames
    public var trustedProxies: TrustedProxies
    public var passAccessToken: Bool
    private let identities = IdentityMemo()

    /// - Parameter provider: the running provider's type (a reload cannot change it).
    public init(_ access: GatehouseConfiguration.Access, provider: GatehouseConfiguration.Provider.Kind) {
        policy = access.policy
        claims = access.claimNames(for: provider)
        trustedProxies = access.trustedProxies
        passAccessToken = access.passAccessToken
    }

    /// What the rules read of `profile`.
    public func identity(of profile: UserProfile) -> AccessIdentity {
        identities.identity(of: profile) { [claims] in AccessIdentity(profile: $0, claims: claims) }
    }

    /// The same settings (what is remembered of profiles aside).
    public static func == (lhs: AccessControl, rhs: AccessControl) -> Bool {
        lhs.policy == rhs.policy && lhs.claims == rhs.claims && lhs.trustedProxies == rhs.trustedProxies && lhs.passAccessToken == rhs.passAccessToken
    }

    /// Why `profile` may not hold a session, or `nil` when it may. Reads the profile only when
    /// there are session rules.
    public func sessionDenial(for profile: UserProfile) -> AccessDenial? {
        guard !policy.sessionRule.admitsEveryone else { return nil }
        if case .denied(let denial) = policy.sessionRule.evaluate(identity(of: profile)) { return denial }
        return nil
    }
}
