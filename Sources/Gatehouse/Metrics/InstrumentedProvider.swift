/// An ``IdentityProvider`` that counts and times every step of the one it wraps, by outcome.
struct InstrumentedProvider: IdentityProvider {
    let base: any IdentityProvider
    let metrics: GatewayMetrics

    func beginLogin(_ start: LoginStart) async throws(ProviderError) -> LoginRedirect {
        try await base.beginLogin(start)
    }

    func completeLogin(_ completion: LoginCompletion) async throws(ProviderError) -> SignIn {
        try await recorded(.login) { () async throws(ProviderError) in try await base.completeLogin(completion) }
    }

    func revalidate(_ credentials: Credentials, current: UserProfile) async throws(ProviderError) -> Revalidation {
        try await recorded(.revalidation) { () async throws(ProviderError) in try await base.revalidate(credentials, current: current) }
    }

    func endSession(_ credentials: Credentials, postLogoutURL: String) async -> SessionEnd {
        let start = ContinuousClock.now
        let end = await base.endSession(credentials, postLogoutURL: postLogoutURL)
        let outcome: String? =
            switch end.revocation {
            case .revoked: "ok"
            case .failed(let error): error.kind.metricLabel
            case .unsupported: nil
            }
        if let outcome {
            metrics.recordProviderCall(.logout, outcome: outcome, duration: ContinuousClock.now - start)
        }
        return end
    }

    private func recorded<Result>(
        _ operation: GatewayMetrics.ProviderOperation,
        _ call: () async throws(ProviderError) -> Result
    ) async throws(ProviderError) -> Result {
        let start = ContinuousClock.now
        do {
            let result = try await call()
            metrics.recordProviderCall(operation, outcome: "ok", duration: ContinuousClock.now - start)
            return result
        } catch {
            metrics.recordProviderCall(operation, outcome: error.kind.metricLabel, duration: ContinuousClock.now - start)
            throw error
        }
    }
}
