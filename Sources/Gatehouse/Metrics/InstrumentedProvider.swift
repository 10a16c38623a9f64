/// An ``IdentityProvider`` that counts and times every call to the one it wraps, by outcome.
struct InstrumentedProvider: IdentityProvider {
    let base: any IdentityProvider
    let metrics: GatewayMetrics

    func hostedPageURL(action: HostedPageAction, returnURL: String) -> String {
        base.hostedPageURL(action: action, returnURL: returnURL)
    }

    func fetchProfile(for token: AccessToken) async throws -> UserProfile {
        try await recorded(.profile) { try await base.fetchProfile(for: token) }
    }

    func refetchProfile(for token: AccessToken, current: UserProfile) async throws -> UserProfile {
        try await recorded(.profile) { try await base.refetchProfile(for: token, current: current) }
    }

    func invalidate(_ token: AccessToken) async throws {
        try await recorded(.invalidate) { try await base.invalidate(token) }
    }

    private func recorded<Result>(_ operation: GatewayMetrics.ProviderOperation, _ call: () async throws -> Result) async throws -> Result {
        let start = ContinuousClock.now
        do {
            let result = try await call()
            metrics.recordProviderCall(operation, outcome: "ok", duration: ContinuousClock.now - start)
            return result
        } catch {
            metrics.recordProviderCall(operation, outcome: Self.outcome(of: error), duration: ContinuousClock.now - start)
            throw error
        }
    }

    private static func outcome(of error: any Error) -> String {
        (error as? ProviderError)?.kind.metricLabel ?? ProviderError.Kind.unreachable.metricLabel
    }
}
