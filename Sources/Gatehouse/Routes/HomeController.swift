import Hummingbird
import HummingbirdAuth

/// `/`: a plain page that says whether you are signed in, with the links to go on from there.
/// Works without JavaScript; logout (here, or in every browser) is a POST form. Added to a group whose ``SessionMiddleware``
/// does not revalidate: the page only greets.
struct HomeController<Context: AuthRequestContext<Session>>: Sendable {
    func addRoutes(to group: RouterGroup<Context>) {
        group.get("/") { _, context in show(context.identity) }
    }

    func show(_ identity: Session?) -> Response {
        let body: String
        switch identity {
        case .some(let session):
            let name = session.profile.name ?? session.profile.email ?? session.profile.id
            body = """
                <h1>Gatehouse</h1>
                <div class="card">
                <p>Signed in as <strong>\(HTMLPage.escape(name))</strong>\(session.profile.email.map { " <span class=\"muted\">(\(HTMLPage.escape($0)))</span>" } ?? "").</p>
                <p><a href="/dashboard">Dashboard</a></p>
                <form class="inline" method="post" action="/logout"><button type="submit">Log out</button></form>
                <form class="inline" method="post" action="/logout"><input type="hidden" name="everywhere" value="1"><button type="submit">Log out everywhere</button></form>
                </div>
                """
        case .none:
            body = """
                <h1>Gatehouse</h1>
                <div class="card">
                <p>You are not signed in.</p>
                <p><a href="/login">Log in</a> · <a href="/register">Register</a> · <a href="/dashboard">Dashboard</a></p>
                </div>
                """
        }
        return HTMLPage(title: "Gatehouse", body: body).response(headers: [.cacheControl: "no-store"])
    }
}
