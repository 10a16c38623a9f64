import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1

/// A server child channel that watches each connection until its first request head has been
/// read, where the WebSocket upgrade pipeline leaves it unwatched, and decides that request's
/// WebSocket handshake before the upgrade handler sees it.
///
/// hummingbird-websocket decides on an upgrade before Hummingbird's HTTP handlers join the
/// pipeline, and turns off NIO's protocol error handling, as Hummingbird answers protocol errors
/// itself. Until that first head, a connection had neither the idle timeout (a client that says
/// nothing, or dribbles its head, held the connection for good) nor an answer to a malformed
/// request (the connection hung, unanswered). While a connection waits for its first head, this
/// gives it both, as a plain HTTP/1 connection has them: closed after `idleTimeout`, and a
/// malformed request answered 400 by NIO's `HTTPServerProtocolErrorHandler` and closed.
///
/// hummingbird-websocket also answers every handshake it refuses with a bare 400. So the gate
/// sees a handshake here first (`refusesWebSocket`): one it refuses loses its `Upgrade` (and asks
/// to close the connection) and goes on as a plain request, which the gate answers as it answers
/// any on its path: 303 to login or 401, or 403. An upgrade to another protocol (h2c) loses its
/// `Upgrade` too, and is answered over HTTP/1.1: NIO's upgrade handler closes the connection on
/// one it has no upgrader for, unanswered.
/// From the first head on, Hummingbird's handlers (or the WebSocket's) have the connection.
struct FirstRequestWatchedChannel<Base: ServerChildChannel>: ServerChildChannel {
    typealias Value = Base.Value

    let base: Base
    let idleTimeout: TimeAmount
    let refusesWebSocket: FirstRequestWatch.Refusal

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        base.setup(channel: channel, logger: logger).flatMapThrowing { value in
            let pipeline = channel.pipeline.syncOperations
            let decoder = try pipeline.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)
            let protocolErrors = HTTPServerProtocolErrorHandler()
            try pipeline.addHandler(protocolErrors, position: .after(decoder))
            let watch = FirstRequestWatch(idleTimeout: idleTimeout, protocolErrors: protocolErrors, refusesWebSocket: refusesWebSocket, logger: logger)
            try pipeline.addHandler(watch, position: .after(protocolErrors))
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}

/// Closes a connection whose first request head has not arrived within the idle timeout, or could
/// not be parsed; holds a first head that asks for a WebSocket until the gate has seen it (and
/// takes the upgrade out of one it refuses); then leaves the pipeline with the protocol error handler.
final class FirstRequestWatch: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    /// Whether the gate refuses the WebSocket handshake `head` (an answer other than 101 is due).
    typealias Refusal = @Sendable (_ head: HTTPRequestHead, _ channel: any Channel, _ logger: Logger) async -> Bool

    private enum State {
        case awaitingHead
        /// The first head asks for a WebSocket; what arrives meanwhile waits with it.
        case deciding(held: [NIOAny])
        case done
    }

    private let idleTimeout: TimeAmount
    private let protocolErrors: HTTPServerProtocolErrorHandler
    private let refusesWebSocket: Refusal
    private let logger: Logger
    private var deadline: Scheduled<Void>?
    private var state = State.awaitingHead

    init(idleTimeout: TimeAmount, protocolErrors: HTTPServerProtocolErrorHandler, refusesWebSocket: @escaping Refusal, logger: Logger) {
        self.idleTimeout = idleTimeout
        self.protocolErrors = protocolErrors
        self.refusesWebSocket = refusesWebSocket
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let channel = context.channel
        deadline = context.eventLoop.scheduleTask(in: idleTimeout) { channel.close(promise: nil) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
        state = .done
    }

    /// A connection that ends before its first request was passed on (a TCP health check, an idle
    /// client, a malformed request) tells the upgrade handler its input is closed first: it then
    /// ends its wait quietly, where any other end of it is an error line in hummingbird-websocket's log.
    func channelInactive(context: ChannelHandlerContext) {
        deadline?.cancel()
        if case .done = state {} else { context.fireUserInboundEventTriggered(ChannelEvent.inputClosed) }
        context.fireChannelInactive()
    }

    /// After a parse error the protocol error handler has answered 400 (it leaves the closing to
    /// the pipeline, and nothing else here closes before the first head): close.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if error is HTTPParserError {
            context.close(promise: nil)
        }
        context.fireErrorCaught(error)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch state {
        case .done:
            context.fireChannelRead(data)
            return
        case .deciding(var held):
            held.append(data)
            state = .deciding(held: held)
            return
        case .awaitingHead:
            break
        }
        guard case .head(let head) = unwrapInboundIn(data) else {
            context.fireChannelRead(data)
            return
        }
        deadline?.cancel()
        guard Self.asksForWebSocket(head) else {
            // Another protocol (curl --http2 asks for h2c): no upgrader takes it, and NIO's upgrade
            // handler would close the connection unanswered. Upgrade is optional (RFC 9110 §7.8):
            // the request is answered over HTTP/1.1, as a plain gateway answers it.
            guard head.headers.contains(name: "Upgrade") else { return finish(context, with: [data]) }
            return finish(context, with: [wrapInboundOut(.head(Self.plainRequest(head)))])
        }
        state = .deciding(held: [])
        let (channel, logger, refuses) = (context.channel, logger, refusesWebSocket)
        let decision = context.eventLoop.makePromise(of: Bool.self)
        decision.completeWithTask { await refuses(head, channel, logger) }
        decision.futureResult.assumeIsolated().whenComplete { result in
            guard case .deciding(let held) = self.state else { return }  // the connection closed meanwhile
            let refused = (try? result.get()) == true
            self.finish(context, with: [self.wrapInboundOut(.head(refused ? Self.plainRequest(head) : head))] + held)
            context.fireChannelReadComplete()
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if case .deciding = state { return }  // passed on with what is held
        context.fireChannelReadComplete()
    }

    /// Passes `parts` on and leaves the pipeline, with the protocol error handler.
    private func finish(_ context: ChannelHandlerContext, with parts: [NIOAny]) {
        state = .done
        for part in parts { context.fireChannelRead(part) }
        let pipeline = context.pipeline.syncOperations
        pipeline.removeHandler(protocolErrors, promise: nil)
        pipeline.removeHandler(context: context, promise: nil)
    }

    /// `head` without its upgrade, to be answered as a plain request and then closed: the parser
    /// reads nothing after a request that asked for an upgrade (``CloseAfterUnhonouredUpgrade``,
    /// which no longer sees the `Upgrade` taken out here).
    private static func plainRequest(_ head: HTTPRequestHead) -> HTTPRequestHead {
        var plain = head
        plain.headers.remove(name: "Upgrade")
        plain.headers.replaceOrAdd(name: "Connection", value: "close")
        return plain
    }

    private static func asksForWebSocket(_ head: HTTPRequestHead) -> Bool {
        head.headers[canonicalForm: "upgrade"].contains { $0.lowercased() == "websocket" }
    }
}
