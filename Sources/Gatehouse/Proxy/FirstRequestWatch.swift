import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1

/// A server child channel that watches each connection until its first request head has been
/// read, where the WebSocket upgrade pipeline leaves it unwatched.
///
/// hummingbird-websocket decides on an upgrade before Hummingbird's HTTP handlers join the
/// pipeline, and turns off NIO's protocol error handling, as Hummingbird answers protocol errors
/// itself. Until that first head, a connection had neither the idle timeout (a client that says
/// nothing, or dribbles its head, held the connection for good) nor an answer to a malformed
/// request (the connection hung, unanswered). While a connection waits for its first head, this
/// gives it both, as a plain HTTP/1 connection has them: closed after `idleTimeout`, and a
/// malformed request answered 400 by NIO's `HTTPServerProtocolErrorHandler` and closed. From the
/// first head on, Hummingbird's handlers (or the WebSocket's) have the connection to themselves.
struct FirstRequestWatchedChannel<Base: ServerChildChannel>: ServerChildChannel {
    typealias Value = Base.Value

    let base: Base
    let idleTimeout: TimeAmount

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        base.setup(channel: channel, logger: logger).flatMapThrowing { value in
            let pipeline = channel.pipeline.syncOperations
            let decoder = try pipeline.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)
            let protocolErrors = HTTPServerProtocolErrorHandler()
            try pipeline.addHandler(protocolErrors, position: .after(decoder))
            try pipeline.addHandler(FirstRequestWatch(idleTimeout: idleTimeout, protocolErrors: protocolErrors), position: .after(protocolErrors))
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}

/// Closes a connection whose first request head has not arrived within the idle timeout, or could
/// not be parsed; once it has arrived, takes itself and the protocol error handler out of the pipeline.
final class FirstRequestWatch: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart

    private let idleTimeout: TimeAmount
    private let protocolErrors: HTTPServerProtocolErrorHandler
    private var deadline: Scheduled<Void>?

    init(idleTimeout: TimeAmount, protocolErrors: HTTPServerProtocolErrorHandler) {
        self.idleTimeout = idleTimeout
        self.protocolErrors = protocolErrors
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let channel = context.channel
        deadline = context.eventLoop.scheduleTask(in: idleTimeout) { channel.close(promise: nil) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadline?.cancel()
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
        guard case .head = unwrapInboundIn(data) else {
            context.fireChannelRead(data)
            return
        }
        deadline?.cancel()
        let pipeline = context.pipeline.syncOperations
        context.fireChannelRead(data)
        pipeline.removeHandler(protocolErrors, promise: nil)
        pipeline.removeHandler(context: context, promise: nil)
    }
}
