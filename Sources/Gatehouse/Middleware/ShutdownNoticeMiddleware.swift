import HTTPTypes
import Hummingbird
import ServiceLifecycle

/// Once the gateway is stopping (SIGTERM, SIGINT), every answer says `Connection: close`: the
/// request in flight gets its whole answer, and the client knows not to send the next one on
/// that connection, which closes after it, instead of finding it closed under a request.
struct ShutdownNoticeMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        if Task.isShuttingDownGracefully {
            response.headers[.connection] = "close"
        }
        return response
    }
}
