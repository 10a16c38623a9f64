import Hummingbird
import HummingbirdAuth

/// The request context of Gatehouse's routes: Hummingbird's, with the signed-in ``Session`` as
/// the identity once a ``SessionMiddleware`` has found one (hummingbird-auth's idiom).
public struct GatewayRequestContext: AuthRequestContext, RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The live session the request carries, after ``SessionMiddleware``; `nil` before it or without one.
    public var identity: Session?

    public init(source: Source) {
        self.coreContext = .init(source: source)
        self.identity = nil
    }
}
