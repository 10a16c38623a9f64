import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// Builds the gateway's router: middleware, then every route of the contract, and the upstreams
/// of reverse-proxy mode. The groups show which routes read a session and which are gated. Routes
/// log through the request's logger, so every line carries the request id.
///
/// - Parameters:
///   - metrics: where requests, logins and provider calls are counted; by default, a new registry
///     when the configuration enables metrics. `/metrics` is served here unless the configuration
///     gives it a listener of its own.
///   - live: the settings a reload may change; by default fixed at `configuration`'s.
///   - now: the sessions' clock; by default the store's (``GatewayComponents/clock``), else this machine's.
public func buildRouter(
    configuration: GatehouseConfiguration,
    components: GatewayComponents,
    metrics: GatewayMetrics? = nil,
    live: LiveSettings? = nil,
    now: (@Sendable () -> Date)? = nil
) -> GatewayRouter {
    let now = now ?? components.clock ?? Date.init
    let metrics = metrics ?? .forConfiguration(configuration.metrics)
    let live = live ?? LiveSettings(configuration: configuration)
    let provider = InstrumentedProvider(base: components.provider, metrics: metrics)
    let sessions = SessionManager(store: components.store, rules: live.sessionRules, now: now)
    let attempts = LoginAttempts(keys: components.keys, spent: components.spentLoginStates, now: now)
    let cookies = SessionCookies(
        cookieName: configuration.sessions.cookieName,
        publicURL: configuration.publicURL,
        secure: configuration.sessions.secureCookies,
        sessionMaxAge: Int(configuration.sessions.lifetime.absoluteTimeout),
        attemptMaxAge: Int(attempts.lifetime)
    )
    let spentCredentials = SpentCredentials(
        store: components.spentLoginStates,
        unknownLifetime: max(configuration.sessions.lifetime.absoluteTimeout, 86_400),
        now: now
    )
    let signOut = ProviderSignOut(provider: provider, publicURL: configuration.publicURL, redirects: live.redirects, spentCredentials: spentCredentials)
    let authenticator = SessionAuthenticator(
        sessions: sessions,
        provider: provider,
        cookies: cookies,
        metrics: metrics,
        access: live.access,
        signOut: signOut
    )

    // Every GET route answers HEAD too (RFC 9110: monitors and `curl -I` ask so), but /logout's.
    let router = Router(context: GatewayRequestContext.self, options: .autoGenerateHeadEndpoints)
    addGatewayMiddleware(to: router.middlewares, metrics: metrics)

    // Open to everyone; logins are held to a rate per client (starts and callbacks counted apart)
    // and callbacks to a budget of provider calls.
    let rate = configuration.logins.perClientPerMinute
    let starts = router.group().add(middleware: ClientRateLimitMiddleware(limiter: ClientRateLimiter(perMinute: rate), access: live.access))
    let callbacks = router.group().add(middleware: ClientRateLimitMiddleware(limiter: ClientRateLimiter(perMinute: rate), access: live.access))
    LoginController(
        provider: provider,
        sessions: sessions,
        attempts: attempts,
        cookies: cookies,
        publicURL: configuration.publicURL,
        redirects: live.redirects,
        metrics: metrics,
        access: live.access,
        signOut: signOut,
        spentCredentials: spentCredentials,
        budget: ProviderCallBudget(limit: configuration.logins.providerCallsAtOnce)
    ).addRoutes(starts: starts, callbacks: callbacks)
    HealthController(store: components.store).addRoutes(to: router)
    if configuration.metrics.enabled, configuration.metrics.listen == nil {
        MetricsController(metrics: metrics, sessions: sessions, sessionCache: components.sessionCache).addRoutes(to: router)
    }
    if let directory = components.mockDirectory {
        // The in-gateway mock hands tokens only back to this gateway.
        MockProviderController(directory: directory, returnOrigin: URL(string: configuration.publicURL))
            .addRoutes(to: router.group(RouterPath(MockProviderMount.pathPrefix)))
    }

    // Read the session as it is: greeting and logging out need no fresh confirmation.
    let reading = router.group().add(middleware: SessionMiddleware(authenticator: authenticator, revalidate: false))
    HomeController().addRoutes(to: reading)
    LogoutController(authenticator: authenticator, signOut: signOut).addRoutes(to: reading)

    // Forward auth reads the session itself, and only when the forwarded path is not public.
    ForwardAuthController(authenticator: authenticator, access: live.access).addRoutes(to: router)

    // Gated: the session is confirmed with the provider when due, and its user checked against the access rules.
    let gated = router.group().add(middleware: SessionMiddleware(authenticator: authenticator, revalidate: true))
    DashboardController(bodies: DashboardBodyCache()).addRoutes(to: gated.group().add(middleware: RequireSessionMiddleware()))

    // Reverse-proxy mode: each upstream behind the same middleware, the app's framing policy kept.
    let attemptRules = UpstreamForwarder.Rules(sessionCookie: cookies.name, attemptCookiePrefix: cookies.attemptPrefix)
    let ownPrefixes = components.mockDirectory == nil ? [] : [MockProviderMount.pathPrefix]
    var claims: [(pathPrefix: String, value: GatewayResponder<GatewayRequestContext>.Claim)] = []
    var webSocketTargets: [(pathPrefix: String, value: UpstreamWebSockets.Target)] = []
    var services: [any Service] = []
    for upstream in configuration.upstreams {
        let clients = UpstreamClients { UpstreamForwarder.makeHTTPClient(for: upstream, on: $0) }
        services += clients.all.map(HTTPClientService.init)
        let gate = UpstreamGate(upstream: upstream, authenticator: authenticator, access: live.access)
        let forwarder = UpstreamForwarder(upstream: upstream, clients: clients, rules: attemptRules, metrics: metrics)
        let chain = Router(context: GatewayRequestContext.self).middlewares
        addGatewayMiddleware(to: chain, metrics: metrics, keepsAppFraming: true)
        let endpoint = UpstreamEndpoint<GatewayRequestContext>(gate: gate, forwarder: forwarder)
        claims.append((upstream.pathPrefix, .init(responder: chain.constructResponder(finalResponder: endpoint), route: "upstream " + upstream.pathPrefix)))
        webSocketTargets.append((upstream.pathPrefix, .init(gate: gate, rules: attemptRules)))
    }
    let unreadable = Router(context: GatewayRequestContext.self).middlewares
    addGatewayMiddleware(to: unreadable, metrics: metrics)
    let refusal = unreadable.constructResponder(finalResponder: CallbackResponder { _, _ in throw GatewayError.notAPath })
    return GatewayRouter(
        router: router,
        upstreams: UpstreamTable(claims, ownPrefixes: ownPrefixes),
        unreadablePath: .init(responder: refusal, route: "unreadable path"),
        webSockets: claims.isEmpty ? nil : UpstreamWebSockets(upstreams: UpstreamTable(webSocketTargets, ownPrefixes: ownPrefixes)),
        services: services
    )
}

/// What every request of the gateway passes through, in order: `Connection: close` while
/// stopping, security headers, the request log, metrics, error rendering, and the refusal of a
/// request that names more than one host.
private func addGatewayMiddleware(to group: MiddlewareGroup<GatewayRequestContext>, metrics: GatewayMetrics, keepsAppFraming: Bool = false) {
    group.add(ShutdownNoticeMiddleware())
    group.add(SecurityHeadersMiddleware(keepsAppFraming: keepsAppFraming))
    group.add(RequestLogMiddleware())
    group.add(RequestMetricsMiddleware(metrics: metrics))
    group.add(ErrorPageMiddleware())
    group.add(SingleHostMiddleware())
}

/// Builds the whole gateway application from a configuration: components, router, services.
///
/// - Parameters:
///   - components: the provider and store to use; by default, those the configuration names.
///   - live: the settings a reload may change (``ConfigurationReloader``); by default fixed.
///   - now: the sessions' clock (tests move it by hand); by default the store's
///     (``GatewayComponents/clock``), else this machine's.
///   - onServerRunning: called with the listening channel once the server accepts connections.
///   - onMetricsServerRunning: the same for the metrics listener, when the configuration has one.
public func buildApplication(
    configuration: GatehouseConfiguration,
    components: GatewayComponents? = nil,
    mockUsers: [[String: JSONValue]] = [],
    live: LiveSettings? = nil,
    now: (@Sendable () -> Date)? = nil,
    logger: Logger,
    onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in },
    onMetricsServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
) async throws -> some ApplicationProtocol {
    let components = try await resolvedComponents(components, configuration: configuration, mockUsers: mockUsers, logger: logger)
    let now = now ?? components.clock ?? Date.init
    let metrics = GatewayMetrics.forConfiguration(configuration.metrics)
    let live = live ?? LiveSettings(configuration: configuration)
    let router = buildRouter(configuration: configuration, components: components, metrics: metrics, live: live, now: now)
    let sessions = SessionManager(store: components.store, rules: live.sessionRules, now: now)
    let sweeper = SessionSweeper(sessions: sessions, logger: logger)
    let limits = configuration.listen.limits
    var app = Application(
        router: router,
        server: router.webSockets?.server(limits: limits) ?? limits.server,
        configuration: .init(address: .hostname(configuration.listen.host, port: configuration.listen.port), serverName: nil),
        onServerRunning: onServerRunning,
        logger: logger
    )
    app.addServices(components.services)
    app.addServices(router.services)
    app.addServices(sweeper)
    if configuration.metrics.enabled, let listen = configuration.metrics.listen {
        app.addServices(
            buildMetricsApplication(
                metrics: metrics,
                sessions: sessions,
                sessionCache: components.sessionCache,
                listen: listen,
                logger: logger,
                onServerRunning: onMetricsServerRunning
            )
        )
    }
    for preparation in components.preparations {
        app.beforeServerStarts(perform: preparation)
    }
    return app
}

/// The listener of its own that serves only `/metrics`.
private func buildMetricsApplication(
    metrics: GatewayMetrics,
    sessions: SessionManager,
    sessionCache: SessionCache?,
    listen: GatehouseConfiguration.Listen,
    logger: Logger,
    onServerRunning: @escaping @Sendable (any Channel) async -> Void
) -> some ApplicationProtocol {
    let router = Router(context: GatewayRequestContext.self, options: .autoGenerateHeadEndpoints)
    router.middlewares.add(SecurityHeadersMiddleware())
    router.middlewares.add(ErrorPageMiddleware())
    MetricsController(metrics: metrics, sessions: sessions, sessionCache: sessionCache).addRoutes(to: router)
    return Application(
        router: router,
        server: listen.limits.server,
        configuration: .init(address: .hostname(listen.host, port: listen.port), serverName: nil),
        onServerRunning: onServerRunning,
        logger: logger
    )
}

private func resolvedComponents(
    _ given: GatewayComponents?,
    configuration: GatehouseConfiguration,
    mockUsers: [[String: JSONValue]],
    logger: Logger
) async throws -> GatewayComponents {
    if let given { return given }
    return try await GatewayComponents.make(for: configuration, mockUsers: mockUsers, logger: logger)
}

/// Builds the standalone mock provider server of `gatehouse mock-idp` and `gatehouse demo`: the
/// LoginRadius hosted page and API, and OpenID Connect under the same base URL.
///
/// - Parameter openID: the mock's OpenID Connect side; by default one over `directory` with the
///   demo clients.
public func buildMockProviderApplication(
    directory: MockDirectory,
    openID: MockOpenIDProvider? = nil,
    host: String = "127.0.0.1",
    port: Int,
    logger: Logger,
    onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
) async -> some ApplicationProtocol {
    let openIDProvider: MockOpenIDProvider
    if let openID {
        openIDProvider = openID
    } else {
        openIDProvider = await MockOpenIDProvider(directory: directory)
    }
    let router = Router(context: BasicRequestContext.self)
    router.middlewares.add(SecurityHeadersMiddleware())
    router.middlewares.add(RequestLogMiddleware())
    router.get("/") { _, _ in Responses.seeOther("/auth.aspx?action=login&return_url=http%3A%2F%2Flocalhost%2F") }
    MockProviderController(directory: directory).addRoutes(to: router.group())
    MockOpenIDController(provider: openIDProvider).addRoutes(to: router.group())
    return Application(
        router: router,
        server: HTTPServerLimits().server,
        configuration: .init(address: .hostname(host, port: port), serverName: nil),
        onServerRunning: onServerRunning,
        logger: logger
    )
}
