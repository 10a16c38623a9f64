import Foundation
import Testing

/// Headless Chromium, driven by Selenium (`Tests/Browser/demo_flow.py`), clicking through a real
/// `gatehouse demo`: sign in as a fixture user, register a new one, log out, be sent back to login.
///
/// Needs Debian's chromium and chromium-driver and Selenium from PyPI: without them the suite is
/// skipped with that reason, unless `GATEHOUSE_REQUIRE_BROWSER=1` (set by CI), where it fails instead.
/// The two flows run one after the other: two Chromiums at once would starve a 2-core machine.
@Suite("Browser end to end", .serialized, .timeLimit(.minutes(3)), .enabled(if: HeadlessChromium.enabled, HeadlessChromium.skipReason))
struct BrowserEndToEndTests {
    /// The steps of the flow, in order, as the script names their screenshots.
    static let steps = [
        "01-landing-signed-out", "02-hosted-login-page", "03-dashboard-fixture-user", "04-landing-signed-in", "05-logged-out",
        "06-registration-form", "07-dashboard-new-user", "08-logged-out-again", "09-dashboard-back-to-login",
    ]

    /// The steps of the OpenID Connect flow (`gatehouse demo --provider oidc`).
    static let oidcSteps = [
        "01-landing-signed-out", "02-authorize-page", "03-dashboard-id-token-claims", "04-landing-signed-in", "05-logged-out-through-end-session",
        "06-registration-form", "07-dashboard-new-user", "08-declined-at-provider",
    ]

    @Test("the demo, clicked through in Chromium, with a screenshot of every step")
    func demoFlow() async throws {
        try await clickThrough(provider: "loginradius", folder: "demo-flow", steps: Self.steps)
    }

    @Test("the OpenID Connect demo, clicked through in Chromium: authorize, claims, end-session logout, registration, declining")
    func oidcDemoFlow() async throws {
        try await clickThrough(provider: "oidc", folder: "demo-flow-oidc", steps: Self.oidcSteps)
    }

    @Test("a user the access rules turn away sees whose account it is, signs out at the provider, and an allowed user gets in")
    func deniedFlow() async throws {
        try await clickThrough(
            provider: "oidc",
            folder: "demo-flow-denied",
            steps: ["01-not-allowed", "02-signed-out-at-provider", "03-dashboard-allowed-user"],
            demoArguments: ["--allow-groups", "admins"],
            flowArguments: ["--flow", "denied"]
        )
    }

    @Test(
        "an app behind the gateway in reverse-proxy mode, clicked through: sent to login, back at the page with the user's identity, logged out and closed again"
    )
    func proxiedAppFlow() async throws {
        try await PythonUpstream.run { upstream in
            try await clickThrough(
                provider: "loginradius",
                folder: "demo-flow-proxy",
                steps: ["01-app-sends-to-login", "02-app-as-ada", "03-logged-out-app-closed"],
                demoArguments: ["--upstream", upstream.url],
                flowArguments: ["--flow", "proxy"]
            )
        }
    }

    /// Runs `gatehouse demo --provider provider` and the browser script against it.
    private func clickThrough(
        provider: String,
        folder: String,
        steps: [String],
        demoArguments: [String] = [],
        flowArguments: [String] = []
    ) async throws {
        let output = HeadlessChromium.outputFolder.appendingPathComponent(folder)
        try? FileManager.default.removeItem(at: output)
        let (gatewayPort, idpPort) = (try LoopbackPort.free(), try LoopbackPort.free())
        let demo = try GatehouseProcess(["demo", "--port", "\(gatewayPort)", "--idp-port", "\(idpPort)", "--provider", provider] + demoArguments)
        _ = try await demo.waitFor("Stop with Ctrl-C")

        let python: URL = try #require(HeadlessChromium.python, "no python3 on the PATH")
        let flow = try GatehouseProcess(
            [
                "Tests/Browser/demo_flow.py", "--gateway", "http://127.0.0.1:\(gatewayPort)", "--idp", "http://127.0.0.1:\(idpPort)",
                "--out", output.path, "--provider", provider,
            ] + flowArguments,
            executable: python
        )
        let status = await flow.exitStatus(within: .seconds(150))
        #expect(status == 0, "the browser flow failed:\n\(flow.printed)\ngatehouse demo printed:\n\(demo.printed)")
        for step in steps {
            let screenshot = try #require(FileManager.default.contents(atPath: output.appendingPathComponent("\(step).png").path), "no screenshot \(step)")
            #expect(screenshot.starts(with: [0x89, 0x50, 0x4E, 0x47]), "\(step).png is a PNG")
        }
        #expect(!demo.printed.contains("token="), "no callback query reaches the demo's log")
        #expect(!demo.printed.contains("code="), "no authorization code reaches the demo's log")
        #expect(await demo.stop(signal: SIGINT) == 0)
    }
}

/// What the browser suite needs, and where its screenshots go.
enum HeadlessChromium {
    static let required = ProcessInfo.processInfo.environment["GATEHOUSE_REQUIRE_BROWSER"] == "1"
    static let skipReason: Comment =
        "install chromium, chromium-driver (apt-get install -y chromium chromium-driver) and Selenium (python3 -m pip install selenium) to run the browser suite"

    /// The first `python3` on the PATH, which must be the one Selenium was installed for.
    static let python: URL? = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":")
        .map { URL(fileURLWithPath: String($0)).appendingPathComponent("python3") }
        .first(where: { FileManager.default.isExecutableFile(atPath: $0.path) })

    static var enabled: Bool {
        required || (hasProgram("chromium") && hasProgram("chromedriver") && hasSelenium)
    }

    /// `GATEHOUSE_TEST_OUTPUT`, else `.build/test-output` in the repository.
    static var outputFolder: URL {
        if let folder = ProcessInfo.processInfo.environment["GATEHOUSE_TEST_OUTPUT"] { return URL(fileURLWithPath: folder) }
        return GatehouseProcess.repositoryRoot.appendingPathComponent(".build/test-output")
    }

    private static func hasProgram(_ name: String) -> Bool {
        FileManager.default.isExecutableFile(atPath: "/usr/bin/\(name)")
    }

    private static var hasSelenium: Bool {
        guard let python else { return false }
        let environment = ProcessInfo.processInfo.environment
        guard let probe = try? SpawnedChild.start(executable: python.path, arguments: ["-c", "import selenium"], environment: environment, directory: "/")
        else { return false }
        // What it prints (a traceback at most) fits the pipe; it is not read.
        defer { close(probe.output) }
        return probe.waitForExit() == 0
    }
}
