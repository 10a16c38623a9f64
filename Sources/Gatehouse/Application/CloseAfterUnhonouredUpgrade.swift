import HTTPTypes
import HummingbirdCore
import NIOCore
import NIOHTTPTypes

/// Ends a connection with the answer to a request that asked to upgrade it and was answered over
/// HTTP/1.1 instead.
///
/// NIO's HTTP/1 parser stops reading a connection at a request that asks for an upgrade (what
/// follows would be the new protocol's), so a connection on which one was answered took no
/// further request: the next one waited for the idle timeout (`curl --http2` with two URLs waited
/// 30 s). Such a request is marked `Connection: close`, so the answer says so and the connection
/// ends with it; the client opens another.
final class CloseAfterUnhonouredUpgrade: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(var head) = unwrapInboundIn(data), head.headerFields[.upgrade] != nil else {
            context.fireChannelRead(data)
            return
        }
        head.headerFields[.connection] = "close"
        context.fireChannelRead(wrapInboundOut(.head(head)))
    }
}
