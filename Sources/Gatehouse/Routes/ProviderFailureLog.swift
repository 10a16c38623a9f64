import Logging

/// Logs provider failures at the level they deserve: a misconfigured gateway is an operator's
/// emergency, an outage a warning.
enum ProviderFailureLog {
    static func record(_ error: ProviderError, during operation: String, logger: Logger) {
        let metadata: Logger.Metadata = ["operation": "\(operation)", "reason": "\(error)"]
        switch error.kind {
        case .misconfigured:
            logger.critical("The identity provider rejects this gateway's credentials: check provider.apiKey and provider.apiSecret", metadata: metadata)
        case .tokenRejected:
            logger.info("The identity provider rejected a token", metadata: metadata)
        case .loginDenied, .missingCredential, .malformedCredential:
            logger.info("The identity provider's callback did not complete a login", metadata: metadata)
        case .rateLimited, .unreachable, .timedOut, .badResponse:
            logger.warning("The identity provider call failed", metadata: metadata)
        }
    }
}
