import GatehouseCore
import Hummingbird
import ServiceLifecycle

/// The gateway's responder in reverse-proxy mode: a path an upstream claims (``UpstreamTable``)
/// goes to that upstream's responder chain (the same middleware as the routes, then its
/// endpoint); a path no rule can read (``RequestPath``: malformed or non-UTF-8 escapes) is 400,
/// since which upstream, and which rule, it falls under cannot be told; everything else goes to
/// the router, so the dashboard and home page answer only where no upstream claims the path.
public struct GatewayResponder<Context: GatewayContext>: HTTPResponder {
    /// An upstream's responder chain and the `route` label of its requests in logs and metrics.
    struct Claim: Sendable {
        let responder: any HTTPResponder<Context>
        let route: String
    }

    let routes: any HTTPResponder<Context>
    let upstreams: UpstreamTable<Claim>
    /// The answer to a path no rule can read: the same middleware, then ``GatewayError/notAPath``.
    let unreadablePath: Claim

    public func respond(to request: Request, context: Context) async throws -> Response {
        if let claim = upstreams.claim(request.head.path) ?? unreadable(request) {
            context.coreContext.endpointPath.value = claim.route
            return try await claim.responder.respond(to: request, context: context)
        }
        return try await routes.respond(to: request, context: context)
    }

    private func unreadable(_ request: Request) -> Claim? {
        guard !upstreams.isEmpty, request.head.path.flatMap(RequestPath.normalized) == nil else { return nil }
        return unreadablePath
    }
}

/// The gateway's routes and upstreams, as Hummingbird's `Application` takes them.
public struct GatewayRouter: HTTPResponderBuilder {
    let router: Router<GatewayRequestContext>
    let upstreams: UpstreamTable<GatewayResponder<GatewayRequestContext>.Claim>
    let unreadablePath: GatewayResponder<GatewayRequestContext>.Claim
    /// The WebSocket upgrades of the upstreams; `nil` without upstreams.
    let webSockets: UpstreamWebSockets?
    /// The upstreams' HTTP clients, run and shut down with the application.
    public let services: [any Service]

    // A concrete type, not `some HTTPResponder`: Swift 6.3's optimizer crashes emitting the
    // opaque type's witness table in `buildApplication` (release builds only).
    public func buildResponder() -> GatewayResponder<GatewayRequestContext> {
        GatewayResponder(routes: router.buildResponder(), upstreams: upstreams, unreadablePath: unreadablePath)
    }
}
