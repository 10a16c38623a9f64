import Hummingbird
import Logging

/// Holds each client (``ClientAddress``) to its rate on the routes it guards: past it, 429 with
/// `Retry-After`, and the route (and any provider call it would make) does not run.
struct ClientRateLimitMiddleware<Context: GatewayContext>: RouterMiddleware {
    let limiter: ClientRateLimiter
    /// Whose `X-Forwarded-For` is believed: the access rules' `trustedProxies` (reloadable).
    let access: Reloadable<AccessControl>

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let client = ClientAddress.of(peer: context.remoteAddress, headers: request.headers, trusted: access.value.trustedProxies)
        if let wait = limiter.admit(client) {
            context.logger.notice("A client is over its login rate", metadata: ["client": "\(client)"])
            return ErrorResponse.make(.tooManyLogins(retryAfter: wait), for: request)
        }
        return try await next(request, context)
    }
}
