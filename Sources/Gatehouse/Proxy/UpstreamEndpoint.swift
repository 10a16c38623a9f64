import HTTPTypes
import Hummingbird

/// One upstream's HTTP requests: let through by ``UpstreamGate``, then forwarded; an answer on a
/// gated path is marked `Cache-Control: no-store` (it depends on the session).
///
/// A WebSocket handshake is the upgrade handler's (``UpstreamWebSockets``; hummingbird-websocket
/// sends one that is not a connection's first request to a new connection with a 307), so one
/// that reaches a route anyway gets the gate's answer, else 501: the connection is not a route's
/// to hand over. An upgrade to another protocol (h2c) is ignored, as RFC 9110 lets a server do:
/// the request is forwarded without it (`Upgrade` is hop-by-hop).
struct UpstreamEndpoint<Context: GatewayContext>: HTTPResponder {
    let gate: UpstreamGate
    let forwarder: UpstreamForwarder

    func respond(to request: Request, context: Context) async throws -> Response {
        let identity: PassedIdentity?
        switch try await gate.admit(request, logger: context.logger) {
        case .answer(let response): return response
        case .forward(let passed): identity = passed
        }
        if request.headers[values: .upgrade].contains(where: { $0.lowercased().contains("websocket") }) { throw GatewayError.upgradeUnsupported }
        var response = try await forwarder.forward(
            request,
            peer: context.remoteAddress,
            peerIsTrusted: gate.access.value.trustedProxies.contains(context.remoteAddress),
            identity: identity,
            eventLoop: context.eventLoop,
            interimAnswers: context.interimAnswers,
            logger: context.logger
        )
        if identity != nil { response.headers[.cacheControl] = "no-store" }
        return response
    }
}
