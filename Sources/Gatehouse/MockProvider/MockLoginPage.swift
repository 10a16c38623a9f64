/// The mock provider's hosted page: pick a fixture user to sign in as, or register a new one.
struct MockLoginPage {
    var action: LoginIntent
    var returnURL: String
    var formAction: String
    var users: [UserProfile]

    var page: HTMLPage {
        let returnField = #"<input type="hidden" name="return_url" value="\#(HTMLPage.escape(returnURL))">"#
        let userCards = users.map { user in
            """
            <div class="card">
            <form method="post" action="\(HTMLPage.escape(formAction))">
            \(returnField)
            <input type="hidden" name="action" value="login">
            <input type="hidden" name="uid" value="\(HTMLPage.escape(user.id))">
            <strong>\(HTMLPage.escape(user.name ?? user.id))</strong><br>
            <span class="muted">\(HTMLPage.escape(user.email ?? "no email"))</span><br>
            <button type="submit" name="login-as" value="\(HTMLPage.escape(user.email ?? user.id))">Sign in as \(HTMLPage.escape(user.name ?? user.id))</button>
            </form>
            </div>
            """
        }.joined(separator: "\n")
        let registration = """
            <div class="card">
            <form method="post" action="\(HTMLPage.escape(formAction))">
            \(returnField)
            <input type="hidden" name="action" value="register">
            <label>First name <input type="text" name="first_name" required maxlength="100"></label>
            <label>Last name <input type="text" name="last_name" maxlength="100"></label>
            <label>Email <input type="email" name="email" required maxlength="254"></label>
            <input type="submit" value="Create account">
            </form>
            </div>
            """
        let sections =
            action == .register
            ? "<h2>Create an account</h2>\n\(registration)\n<h2>Or sign in</h2>\n\(userCards)"
            : "<h2>Sign in</h2>\n\(userCards)\n<h2>New here? Create an account</h2>\n\(registration)"
        return HTMLPage(
            title: "Mock identity provider",
            body: """
                <h1>Mock identity provider</h1>
                <p class="muted">A stand-in for a LoginRadius hosted page. No passwords: choose who you are.</p>
                \(sections)
                """
        )
    }
}
