import Hummingbird
import ServiceLifecycle

/// The gateway's responder in reverse-proxy mode: a path an upstream claims goes to that
/// upstream's endpoint, unless it is one of Gatehouse's own (``GatewayOwnPaths``); everything
/// else goes to the router, so the dashboard and home page answer only where no upstream claims
/// the path. The claim is decided on the normalized path (``RequestPath/normalized(_:)``), the
/// longest prefix winning; each endpoint sits behind the same middleware as the routes.
struct GatewayResponder<Context: GatewayContext>: HTTPResponder {
    /// An upstream's prefix and the responder chain (middleware, then its endpoint) that answers it.
    struct Claim: Sendable {
        let pathPrefix: String
        let responder: any HTTPResponder<Context>
        /// The `route` label of its requests in logs and metrics.
        let route: String
    }

    let routes: any HTTPResponder<Context>
    /// Longest prefix first.
    let claims: [Claim]
    /// Prefixes of this gateway's own besides ``GatewayOwnPaths`` (the mock provider's mount).
    let ownPrefixes: [String]

    init(routes: any HTTPResponder<Context>, claims: [Claim], ownPrefixes: [String]) {
        self.routes = routes
        self.claims = claims.sorted { $0.pathPrefix.utf8.count > $1.pathPrefix.utf8.count }
        self.ownPrefixes = ownPrefixes
    }

    func respond(to request: Request, context: Context) async throws -> Response {
        if let claim = claim(for: request) {
            context.coreContext.endpointPath.value = claim.route
            return try await claim.responder.respond(to: request, context: context)
        }
        return try await routes.respond(to: request, context: context)
    }

    private func claim(for request: Request) -> Claim? {
        guard !claims.isEmpty, let path = request.head.path.flatMap(RequestPath.normalized), !GatewayOwnPaths.contains(path, extra: ownPrefixes) else {
            return nil
        }
        return claims.first { claim in
            path.hasPrefix(claim.pathPrefix) || (claim.pathPrefix.hasSuffix("/") && path == claim.pathPrefix.dropLast())
        }
    }
}

/// The gateway's routes and upstreams, as Hummingbird's `Application` takes them.
public struct GatewayRouter: HTTPResponderBuilder {
    let router: Router<GatewayRequestContext>
    let claims: [(pathPrefix: String, responder: any HTTPResponder<GatewayRequestContext>)]
    let ownPrefixes: [String]
    /// The upstreams' HTTP clients, run and shut down with the application.
    public let services: [any Service]

    public func buildResponder() -> some HTTPResponder<GatewayRequestContext> {
        GatewayResponder(
            routes: router.buildResponder(),
            claims: claims.map { .init(pathPrefix: $0.pathPrefix, responder: $0.responder, route: "upstream " + $0.pathPrefix) },
            ownPrefixes: ownPrefixes
        )
    }
}
