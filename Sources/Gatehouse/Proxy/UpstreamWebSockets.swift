import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdWSClient
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypesHTTP1
import NIOSSL

/// WebSocket upgrades in reverse-proxy mode.
///
/// Hummingbird decides on an upgrade in the connection's channel, before any route sees the
/// request, so this is where the upstream's gate (``UpstreamGate``) runs for one. An upgrade to a
/// path an upstream claims that passes is accepted, and joined to a WebSocket the gateway opens to
/// the app: the same path and query, the identity and forwarding headers of an HTTP request, the
/// app's cookies but none of Gatehouse's. Messages then cross both ways, as whole messages of at
/// most ``messageLimit`` bytes, until either side closes. A handshake the gate refuses (no
/// session, a user the path's rules refuse) is seen by it first, in the channel
/// (``FirstRequestWatch``), and answered as any request on its path: 303 to login or 401, or 403.
/// One to a Unix-socket app, or to a path no upstream claims, hummingbird-websocket refuses with
/// 400 and closes. The app is never contacted.
struct UpstreamWebSockets: Sendable {
    /// What the upgrades of one upstream need.
    struct Target: Sendable {
        let gate: UpstreamGate
        let rules: UpstreamForwarder.Rules
    }

    typealias Handler = WebSocketDataHandler<HTTP1WebSocketUpgradeChannel.Context>

    /// The largest message passed either way; a larger one closes the connection (1009).
    static let messageLimit = 1 << 20

    let upstreams: UpstreamTable<Target>

    /// The HTTP/1 server with these upgrades, within `limits`.
    func server(limits: HTTPServerLimits) -> HTTPServerBuilder {
        let configuration = HTTP1WebSocketUpgradeChannel.Configuration(http1: limits.http1, ws: .init(maxFrameSize: Self.messageLimit))
        let idleTimeout = TimeAmount(limits.idleTimeout)
        return HTTPServerBuilder { responder in
            FirstRequestWatchedChannel(
                base: HTTP1WebSocketUpgradeChannel(
                    responder: responder,
                    configuration: configuration,
                    shouldUpgrade: { head, channel, logger in await shouldUpgrade(head, channel: channel, logger: logger) }
                ),
                idleTimeout: idleTimeout,
                refusesWebSocket: { head, channel, logger in await refuses(head, channel: channel, logger: logger) }
            )
        }
    }

    /// Whether the gate of the upstream claiming `head`'s path refuses the handshake, with an answer
    /// of its own (``FirstRequestWatch`` asks before the upgrade handler). Other handshakes the
    /// upgrade handler takes or refuses (400) itself.
    func refuses(_ head: HTTPRequestHead, channel: any Channel, logger: Logger) async -> Bool {
        guard let request = try? HTTPRequest(head, secure: false, splitCookie: false), let target = upstreams.claim(request.path) else { return false }
        let answer = try? await target.gate.admit(Request(head: request, body: RequestBody(buffer: ByteBuffer())), logger: logger)
        if case .answer? = answer { return true }
        return false
    }

    /// The app's origin, the upstream and the identity for an accepted handshake; `nil` when refused.
    private func admission(_ head: HTTPRequest, logger: Logger) async -> (origin: String, target: Target, identity: PassedIdentity?)? {
        guard let target = upstreams.claim(head.path), case .http(let origin) = target.gate.upstream.target else { return nil }
        let request = Request(head: head, body: RequestBody(buffer: ByteBuffer()))
        guard case .forward(let identity)? = try? await target.gate.admit(request, logger: logger) else { return nil }
        return (origin, target, identity)
    }

    func shouldUpgrade(_ head: HTTPRequest, channel: any Channel, logger: Logger) async -> ShouldUpgradeResult<Handler> {
        guard let (origin, target, identity) = await admission(head, logger: logger) else { return .dontUpgrade }
        let forwarding = ProxyHeaders.Forwarding(
            peer: channel.remoteAddress?.ipAddress,
            peerIsTrusted: target.gate.access.value.trustedProxies.contains(channel.remoteAddress),
            host: head.authority,
            preserveHost: false
        )
        let headers = Self.handshakeHeaders(
            ProxyHeaders.upstreamRequest(head.headerFields, forwarding: forwarding, identity: identity, isGatehouseCookie: target.rules.isGatehouseCookie)
        )
        let url = (origin.hasPrefix("https:") ? "wss" + origin.dropFirst(5) : "ws" + origin.dropFirst(4)) + UpstreamRequestTarget.escaped(head.path ?? "/")
        let prefix = target.gate.upstream.pathPrefix
        return .upgrade([:]) { inbound, outbound, context in
            do {
                try await Self.join(inbound, outbound, toAppAt: url, headers: headers, logger: context.logger)
            } catch {
                context.logger.warning(
                    "The upstream's WebSocket failed",
                    metadata: ["upstream": "\(prefix)", "error.type": "\(String(reflecting: type(of: error)))"]
                )
            }
        }
    }

    /// Opens the app's WebSocket and passes messages both ways until one side closes.
    private static func join(
        _ browserInbound: WebSocketInboundStream,
        _ browserOutbound: WebSocketOutboundWriter,
        toAppAt url: String,
        headers: HTTPFields,
        logger: Logger
    ) async throws {
        let configuration = WebSocketClientConfiguration(maxFrameSize: messageLimit, additionalHeaders: headers)
        let tls = url.hasPrefix("wss:") ? TLSConfiguration.makeClientConfiguration() : nil
        try await WebSocketClient.connect(url: url, configuration: configuration, tlsConfiguration: tls, logger: logger) { appInbound, appOutbound, _ in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for try await message in browserInbound.messages(maxSize: messageLimit) { try await appOutbound.write(message.frame) }
                }
                group.addTask {
                    for try await message in appInbound.messages(maxSize: messageLimit) { try await browserOutbound.write(message.frame) }
                }
                // Either side closing ends both.
                try await group.next()
                group.cancelAll()
            }
        }
    }

    /// What the app's handshake carries of the forwarded headers: all but those the WebSocket
    /// client sets itself (`Host`, `Sec-WebSocket-*`).
    private static func handshakeHeaders(_ headers: NIOHTTP1.HTTPHeaders) -> HTTPFields {
        var fields = HTTPFields()
        for (name, value) in headers {
            let lowercased = name.lowercased()
            guard lowercased != "host", !lowercased.hasPrefix("sec-websocket-"), let fieldName = HTTPField.Name(name) else { continue }
            fields.append(HTTPField(name: fieldName, value: value))
        }
        return fields
    }
}

extension WebSocketMessage {
    /// The frame that sends this message on.
    fileprivate var frame: WebSocketOutboundWriter.OutboundFrame {
        switch self {
        case .text(let text): .text(text)
        case .binary(let bytes): .binary(bytes)
        }
    }
}
