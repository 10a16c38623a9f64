import Hummingbird
import Logging

/// `/`: a plain page that says whether you are signed in, with the links to go on from there.
/// Works without JavaScript; logout is a POST form.
struct HomeController<Context: RequestContext>: Sendable {
    let authenticator: SessionAuthenticator

    func addRoutes(to router: Router<Context>) {
        router.get("/") { request, context in try await show(request, logger: context.logger) }
    }

    func show(_ request: Request, logger: Logger) async throws -> Response {
        // The page only greets; gated routes do the revalidation.
        let outcome = try await authenticator.authenticate(request, logger: logger, revalidate: false)
        let body: String
        switch outcome {
        case .signedIn(let session):
            let name = session.profile.name ?? session.profile.email ?? session.profile.id
            body = """
                <h1>Gatehouse</h1>
                <div class="card">
                <p>Signed in as <strong>\(HTMLPage.escape(name))</strong>\(session.profile.email.map { " <span class=\"muted\">(\(HTMLPage.escape($0)))</span>" } ?? "").</p>
                <p><a href="/dashboard">Dashboard</a></p>
                <form class="inline" method="post" action="/logout"><button type="submit">Log out</button></form>
                </div>
                """
        case .signedOut:
            body = """
                <h1>Gatehouse</h1>
                <div class="card">
                <p>You are not signed in.</p>
                <p><a href="/login">Log in</a> · <a href="/register">Register</a> · <a href="/dashboard">Dashboard</a></p>
                </div>
                """
        }
        var response = HTMLPage(title: "Gatehouse", body: body).response(headers: [.cacheControl: "no-store"])
        if case .signedOut(staleCookie: true) = outcome {
            response.setCookie(authenticator.cookies.expiredSession())
        }
        return response
    }
}
