/// The mock provider's sign-in page: pick a fixture user to sign in as, or register a new one.
/// LoginRadius's hosted page and the OpenID Connect authorize page are this same page.
struct MockLoginPage {
    var intent: LoginIntent
    /// Carried through every form as hidden fields (`return_url`, or the authorization request).
    var hiddenFields: [(name: String, value: String)]
    var formAction: String
    var users: [UserProfile]
    /// Whether the page offers to decline (OpenID Connect's `error=access_denied`).
    var offersDenial = false

    var page: HTMLPage {
        let hidden = hiddenFields.map { #"<input type="hidden" name="\#(HTMLPage.escape($0.name))" value="\#(HTMLPage.escape($0.value))">"# }
            .joined(separator: "\n")
        let userCards = users.map { user in
            """
            <div class="card">
            <form method="post" action="\(HTMLPage.escape(formAction))">
            \(hidden)
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
            \(hidden)
            <input type="hidden" name="action" value="register">
            <label>First name <input type="text" name="first_name" required maxlength="100"></label>
            <label>Last name <input type="text" name="last_name" maxlength="100"></label>
            <label>Email <input type="email" name="email" required maxlength="254"></label>
            <input type="submit" value="Create account">
            </form>
            </div>
            """
        let denial =
            offersDenial
            ? """
            <div class="card">
            <form method="post" action="\(HTMLPage.escape(formAction))">
            \(hidden)
            <input type="hidden" name="action" value="deny">
            <button type="submit" name="deny" value="deny">Decline and go back</button>
            </form>
            </div>
            """ : ""
        let sections =
            intent == .register
            ? "<h2>Create an account</h2>\n\(registration)\n<h2>Or sign in</h2>\n\(userCards)"
            : "<h2>Sign in</h2>\n\(userCards)\n<h2>New here? Create an account</h2>\n\(registration)"
        return HTMLPage(
            title: "Mock identity provider",
            body: """
                <h1>Mock identity provider</h1>
                <p class="muted">A stand-in for a hosted sign-in page. No passwords: choose who you are.</p>
                \(sections)
                \(denial)
                """
        )
    }
}
