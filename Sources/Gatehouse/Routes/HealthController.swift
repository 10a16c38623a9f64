import Hummingbird
import Logging

/// `/healthz` (the process serves) and `/readyz` (the session store answers).
struct HealthController<Context: RequestContext>: Sendable {
    let store: any SessionStore

    func addRoutes(to router: Router<Context>) {
        // Probed often and always the same: the body is encoded once.
        let healthy = JSONValue.object(["status": .string("ok")]).encoded()
        router.get("healthz") { _, _ in
            JSONResponse.make(headers: [.cacheControl: "no-store"], encoded: healthy)
        }
        router.get("readyz") { request, context in
            do {
                try await store.checkHealth()
                return JSONResponse.make(headers: [.cacheControl: "no-store"], ["status": .string("ready")])
            } catch {
                context.logger.warning("Readiness check failed: the session store does not answer", metadata: ["error.type": "\(type(of: error))"])
                return ErrorResponse.make(
                    GatewayError(.serviceUnavailable, code: "not_ready", message: "The session store does not answer."),
                    for: request
                )
            }
        }
    }
}
