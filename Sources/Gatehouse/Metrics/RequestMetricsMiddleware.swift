import HTTPTypes
import Hummingbird

/// Counts and times every request by method, matched route and status.
///
/// Unmatched requests count under Hummingbird's route `NotFound`, never their path, and unknown
/// methods as `OTHER`, so a scan of random URLs cannot create new series.
struct RequestMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: GatewayMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        do {
            let response = try await next(request, context)
            record(request, context: context, status: response.status.code, since: start)
            return response
        } catch {
            record(request, context: context, status: (error as? any HTTPResponseError)?.status.code ?? 500, since: start)
            throw error
        }
    }

    private func record(_ request: Request, context: Context, status: Int, since start: ContinuousClock.Instant) {
        metrics.recordRequest(method: request.method, route: context.endpointPath ?? "unmatched", status: status, duration: ContinuousClock.now - start)
    }
}
