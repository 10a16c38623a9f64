import Hummingbird
import HummingbirdAuth
import NIOCore

/// What a gated route needs of its request context: hummingbird-auth's identity (the signed-in
/// ``Session``), the connection's address (for ``TrustedProxies``), and the refusal when a
/// session was ended because its user no longer passes the access rules.
public protocol GatewayContext: AuthRequestContext<Session>, RemoteAddressRequestContext {
    /// Set by ``SessionMiddleware`` when the request's session was refused.
    var refusal: AccessRefusal? { get set }
    /// The event loop serving the request's connection.
    var eventLoop: any EventLoop { get }
    /// Informational answers (`100 Continue`) on the request's connection.
    var interimAnswers: InterimAnswers { get }
}

/// The request context of Gatehouse's routes: Hummingbird's, with the signed-in ``Session`` as
/// the identity once a ``SessionMiddleware`` has found one (hummingbird-auth's idiom).
public struct GatewayRequestContext: GatewayContext, RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The live session the request carries, after ``SessionMiddleware``; `nil` before it or without one.
    public var identity: Session?
    public var refusal: AccessRefusal?
    /// The peer of the connection; `nil` where there is none (router tests).
    public let remoteAddress: SocketAddress?
    public let eventLoop: any EventLoop
    public let interimAnswers: InterimAnswers

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.identity = nil
        self.remoteAddress = source.channel.remoteAddress
        self.eventLoop = source.channel.eventLoop
        self.interimAnswers = InterimAnswers(channel: source.channel)
    }
}
