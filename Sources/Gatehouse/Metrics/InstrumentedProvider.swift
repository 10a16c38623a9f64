/// An ``IdentityProvider`` that counts and times every call to the one it wraps, by outcome.
struct InstrumentedProvider: IdentityProvider {
    let base: any IdentityProvider
    let metrics: GatewayMetrics

    func hostedPageURL(action: HostedPageAction, returnURL: String) -> String {
        base.hostedPageURL(action: action, returnURL: returnURL)
    }

    func fetchProfile(for token: AccessToken) async throws -> UserProfile {
        let start = ContinuousClock.now
        do {
            let profile = try await base.fetchProfile(for: token)
            metrics.recordProviderCall(.profile, outcome: "ok", duration: ContinuousClock.now - start)
            return profile
        } catch {
            metrics.recordProviderCall(.profile, outcome: Self.outcome(of: error), duration: ContinuousClock.now - start)
            throw error
        }
    }

    func invalidate(_ token: AccessToken) async throws {
        let start = ContinuousClock.now
        do {
            try await base.invalidate(token)
            metrics.recordProviderCall(.invalidate, outcome: "ok", duration: ContinuousClock.now - start)
        } catch {
            metrics.recordProviderCall(.invalidate, outcome: Self.outcome(of: error), duration: ContinuousClock.now - start)
            throw error
        }
    }

    private static func outcome(of error: any Error) -> String {
        (error as? ProviderError)?.kind.metricLabel ?? ProviderError.Kind.unreachable.metricLabel
    }
}
