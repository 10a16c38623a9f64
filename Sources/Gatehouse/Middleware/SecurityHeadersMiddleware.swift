import HTTPTypes
import Hummingbird

/// Adds the headers every Gatehouse response carries: no referrer leaves the gateway (the
/// callback URL holds a token), no content sniffing, no framing.
///
/// In front of an app (`keepsAppFraming`), the app's own `X-Frame-Options` stands: it knows
/// whether it may be framed (a dashboard embedding its panels); without one, none may.
struct SecurityHeadersMiddleware<Context: RequestContext>: RouterMiddleware {
    var keepsAppFraming = false

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        response.headers[.referrerPolicy] = "no-referrer"
        response.headers[.xContentTypeOptions] = "nosniff"
        if !keepsAppFraming || response.headers[.xFrameOptions] == nil {
            response.headers[.xFrameOptions] = "DENY"
        }
        return response
    }
}

extension HTTPField.Name {
    static let referrerPolicy = Self("Referrer-Policy")!
    static let xContentTypeOptions = Self("X-Content-Type-Options")!
    static let xFrameOptions = Self("X-Frame-Options")!
}
