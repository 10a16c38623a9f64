import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1

/// Sends requests to one upstream over AsyncHTTPClient and hands back its answer, both bodies
/// streamed with back-pressure: a request body is read from the client only as fast as the app
/// takes it, an answer read from the app only as fast as the client takes it.
///
/// The method, path and query reach the app as the client sent them (a target that is not a
/// well-formed URI escaped only where it is not: ``UpstreamRequestTarget``). Redirects are the browser's
/// to follow. An upstream that cannot be reached (refused, reset, closed before answering, TLS
/// failing) is 502; one that has not answered within the upstream's timeout of the request's
/// end is 504 (a pause that long within the answer ends it: the browser sees a cut-off body,
/// and the log a warning).
struct UpstreamForwarder: Sendable {
    /// What the proxy does not pass on, and what decides it.
    struct Rules: Sendable {
        /// The session cookie's name, and what every login-attempt cookie's starts with.
        var sessionCookie: String
        var attemptCookiePrefix: String

        func isGatehouseCookie(_ name: Substring) -> Bool {
            name == sessionCookie || name.hasPrefix(attemptCookiePrefix)
        }
    }

    let upstream: GatehouseConfiguration.Upstream
    let clients: UpstreamClients
    let rules: Rules
    let metrics: GatewayMetrics

    /// A client for one upstream: no redirects followed, no decompression (bytes pass as sent),
    /// connecting bounded by the upstream's timeout, and enough connections for a busy app.
    static func makeHTTPClient(for upstream: GatehouseConfiguration.Upstream, on eventLoop: any EventLoop) -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        // The read timeout starts once the request is sent (an upload may take as long as the
        // client needs), then bounds the wait for the answer and every pause within it, as
        // nginx's proxy_read_timeout does.
        configuration.timeout = .init(connect: .init(upstream.timeout), read: .init(upstream.timeout))
        configuration.decompression = .disabled
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 512
        configuration.tracing.tracer = nil
        return HTTPClient(eventLoopGroupProvider: .shared(eventLoop), configuration: configuration)
    }

    /// Forwards `request`, telling the app of `identity` (none on a public route).
    /// - Parameters:
    ///   - eventLoop: the loop serving the browser's connection.
    ///   - interimAnswers: where a client waiting to send its body (`Expect: 100-continue`) is told
    ///     to send it, as the upload starts.
    func forward(
        _ request: Request,
        peer: SocketAddress?,
        peerIsTrusted: Bool,
        identity: PassedIdentity?,
        eventLoop: (any EventLoop)?,
        interimAnswers: InterimAnswers,
        logger: Logger
    ) async throws(GatewayError) -> Response {
        let (clientLoop, client) = clients.client(on: eventLoop)
        let target = request.head.path ?? "/"
        var outbound = HTTPClientRequest(url: upstream.target.url(for: target))
        outbound.method = HTTPMethod(rawValue: request.method.rawValue)
        let forwarding = ProxyHeaders.Forwarding(
            peer: peer?.ipAddress,
            peerIsTrusted: peerIsTrusted,
            host: request.head.authority,
            preserveHost: upstream.preserveHost
        )
        outbound.headers = ProxyHeaders.upstreamRequest(request.headers, forwarding: forwarding, identity: identity, isGatehouseCookie: rules.isGatehouseCookie)
        let upload = Self.upload(of: request, pacedOn: clientLoop)
        outbound.body = upload?.body
        if upload != nil, InterimAnswers.expectsContinue(request.headers) { await interimAnswers.sendContinue() }
        let start = ContinuousClock.now
        let answer: HTTPClientResponse
        do {
            answer = try await client.execute(outbound, deadline: .distantFuture, logger: logger)
        } catch {
            throw await failure(error, upload: upload?.handover, since: start, logger: logger)
        }
        if answer.status.code >= 300 { upload?.handover.abandon() }
        // For an answer of 300 or more AsyncHTTPClient stops an upload still under way (and closes
        // the connection after the answer).
        if answer.status.code >= 300 { upload?.handover.abandon() }
        metrics.recordUpstream(upstream.pathPrefix, outcome: "answered", duration: ContinuousClock.now - start)
        let headers = ProxyHeaders.browserResponse(answer.headers, isGatehouseCookie: rules.isGatehouseCookie)
        let status = HTTPResponse.Status(code: Int(answer.status.code), reasonPhrase: answer.status.reasonPhrase)
        return Response(status: status, headers: headers, body: relayed(answer.body, handingBack: upload?.handover, logger: logger))
    }

    /// The app's answer body as the browser gets it. An app that fails within it (closes, resets,
    /// pauses past the timeout) cuts the browser's answer off the same way, so it is never taken
    /// for a whole one, and says so in the log. Once the answer is done or has failed, the
    /// request's body is Hummingbird's again (`handover`).
    private func relayed(_ body: HTTPClientResponse.Body, handingBack handover: UploadHandover?, logger: Logger) -> ResponseBody {
        let prefix = upstream.pathPrefix
        return ResponseBody { writer in
            do {
                var parts = body.makeAsyncIterator()
                while true {
                    let part: ByteBuffer?
                    do {
                        part = try await parts.next()
                    } catch {
                        if handover?.clientBrokeOff == true {
                            logger.info("The client broke off its upload", metadata: ["upstream": "\(prefix)"])
                        } else {
                            logger.warning(
                                "The upstream's answer was cut off",
                                metadata: ["upstream": "\(prefix)", "error": "\(Self.describe(error))"]
                            )
                        }
                        throw error
                    }
                    guard let part else { break }
                    try await writer.write(part)
                }
                try await writer.finish(nil)
            } catch {
                await handover?.handBack()
                throw error
            }
            await handover?.handBack()
        }
    }

    /// The request's body as the app should get it: streamed, with its length when the client gave
    /// one, and the handover that ends the upload with the exchange; `nil` for a request without one.
    private static func upload(
        of request: Request,
        pacedOn eventLoop: any EventLoop
    ) -> (body: HTTPClientRequest.Body, handover: UploadHandover)? {
        let length: HTTPClientRequest.Body.Length
        if let declared = request.headers[.contentLength].flatMap(Int64.init) {
            guard declared > 0 else { return nil }
            length = .known(declared)
        } else {
            guard request.headers[.transferEncoding] != nil else { return nil }
            length = .unknown
        }
        let handover = UploadHandover()
        return (.stream(PacedBody(base: request.body, eventLoop: eventLoop, handover: handover), length: length), handover)
    }

    /// What the browser is told when the exchange ended before the app's answer, counted and
    /// logged, once the request's body is Hummingbird's again: a client that broke off its upload
    /// went away (nothing the app did), else the app is unreachable (502) or too slow (504).
    private func failure(_ error: any Error, upload: UploadHandover?, since start: ContinuousClock.Instant, logger: Logger) async -> GatewayError {
        await upload?.handBack()
        let duration = ContinuousClock.now - start
        if upload?.clientBrokeOff == true {
            metrics.recordUpstream(upstream.pathPrefix, outcome: "client_aborted", duration: duration)
            logger.info("The client broke off its upload", metadata: ["upstream": "\(upstream.pathPrefix)"])
            return .uploadBrokenOff
        }
        let failure = Self.classify(error)
        metrics.recordUpstream(upstream.pathPrefix, outcome: failure.outcome, duration: duration)
        logger.warning(
            "The upstream did not answer",
            metadata: ["upstream": "\(upstream.pathPrefix)", "outcome": "\(failure.outcome)", "error": "\(Self.describe(error))"]
        )
        return failure.error
    }

    /// What the browser is told when the upstream gave no answer, and the metric's outcome.
    private static func classify(_ error: any Error) -> (error: GatewayError, outcome: String) {
        if let error = error as? HTTPClientError, [.deadlineExceeded, .readTimeout, .connectTimeout, .tlsHandshakeTimeout].contains(error) {
            return (.upstreamTimedOut, "timed_out")
        }
        return (.upstreamUnreachable, "unreachable")
    }

    /// An error's text for the log: AsyncHTTPClient's and NIO's say what failed, never a header or body.
    private static func describe(_ error: any Error) -> String {
        if error is HTTPClientError || error is IOError || error is ChannelError {
            return String(describing: error).prefix(300).description
        }
        return String(describing: type(of: error))
    }
}

extension GatewayError {
    static let upstreamUnreachable = GatewayError(
        .badGateway,
        code: "upstream_unreachable",
        message: "The application behind the gateway cannot be reached. Try again shortly."
    )
    static let upstreamTimedOut = GatewayError(
        .gatewayTimeout,
        code: "upstream_timeout",
        message: "The application behind the gateway did not answer in time. Try again shortly."
    )
    static let uploadBrokenOff = GatewayError(
        .badRequest,
        code: "upload_incomplete",
        message: "The request's body ended before all of it was sent."
    )
    static let upgradeUnsupported = GatewayError(
        .notImplemented,
        code: "upgrade_not_supported",
        message: "The gateway does not pass protocol upgrades (WebSocket) to the application."
    )
    static let notAPath = GatewayError(.badRequest, code: "bad_path", message: "The request's path is not one the gateway can check.")
}

extension GatehouseConfiguration.Upstream.Target {
    /// The URL AsyncHTTPClient is given for `requestTarget` (the path and query as the client sent
    /// them, escaped where they are not a well-formed URI: ``UpstreamRequestTarget``).
    fileprivate func url(for requestTarget: String) -> String {
        let requestTarget = UpstreamRequestTarget.escaped(requestTarget)
        return switch self {
        case .http(let origin): origin + requestTarget
        case .unixSocket(let path): URL(httpURLWithSocketPath: path, uri: requestTarget)?.absoluteString ?? "http+unix://invalid" + requestTarget
        }
    }
}
