#!/usr/bin/env python3
"""Drives headless Chromium through a running `gatehouse demo`, the way a person would.

Run by Tests/GatehouseTests/Integration/BrowserEndToEndTests.swift, which starts the demo:

    python3 Tests/Browser/demo_flow.py --gateway URL --idp URL --out DIR [--provider oidc] [--flow denied|proxy]

With --provider oidc the demo signs in with OpenID Connect (`gatehouse demo --provider oidc`);
--flow denied expects `--allow-groups admins` and a user the rules turn away; --flow proxy expects
`--upstream` pointing at Tests/Upstream/upstream.py, which echoes what it receives as JSON.

Each step saves a screenshot NN-name.png into DIR. Any failed check raises, so the exit status
is non-zero and the message says which step and what the browser showed.
"""

import argparse
import json
import os
import shutil
import sys

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait


def find(program, *candidates):
    for path in (shutil.which(program), *candidates):
        if path and os.access(path, os.X_OK):
            return path
    raise SystemExit(f"{program} not found: apt-get install -y chromium chromium-driver")


def start_browser():
    options = webdriver.ChromeOptions()
    options.binary_location = find("chromium", "/usr/bin/chromium")
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1000,760", "--lang=en-GB"):
        options.add_argument(argument)
    # The driver is Debian's, named explicitly: Selenium Manager must not download anything.
    service = Service(executable_path=find("chromedriver", "/usr/bin/chromedriver"))
    return webdriver.Chrome(options=options, service=service)


class Flow:
    def __init__(self, browser, gateway, idp, out):
        self.browser, self.gateway, self.idp, self.out = browser, gateway, idp, out
        self.step = 0
        # A page that is replaced while a condition reads it (a redirect landing) is read again, not a failure.
        self.wait = WebDriverWait(browser, 10, ignored_exceptions=[StaleElementReferenceException])

    def shot(self, name):
        self.step += 1
        path = os.path.join(self.out, f"{self.step:02d}-{name}.png")
        if not self.browser.save_screenshot(path):
            raise AssertionError(f"could not save {path}")
        print(f"step {self.step:02d} {name}: {self.browser.current_url}", flush=True)

    def check(self, condition, what):
        if not condition:
            raise AssertionError(f"step {self.step + 1}: {what}; the browser is at {self.browser.current_url} showing:\n{self.text()[:600]}")

    def text(self):
        return self.browser.find_element(By.TAG_NAME, "body").text

    def wait_for_url(self, prefix):
        try:
            self.wait.until(lambda browser: browser.current_url.startswith(prefix))
        except Exception:
            self.check(False, f"expected a page under {prefix}")

    def dashboard_json(self):
        try:
            return json.loads(self.text())
        except ValueError:
            self.check(False, "the dashboard is not JSON")

    def press(self, xpath):
        button = self.wait.until(expected_conditions.element_to_be_clickable((By.XPATH, xpath)))
        button.click()

    def run(self):
        browser = self.browser
        browser.get(self.gateway + "/")
        self.check("You are not signed in." in self.text(), "the landing page should say nobody is signed in")
        self.check(browser.find_elements(By.LINK_TEXT, "Log in") and browser.find_elements(By.LINK_TEXT, "Register"), "Login and Register links")
        self.shot("landing-signed-out")

        # A gated page sends the browser to the provider's hosted login page.
        browser.get(self.gateway + "/dashboard")
        self.wait_for_url(self.idp + "/auth.aspx?action=login")
        self.check("Sign in as Ada Lovelace" in self.text(), "the hosted page lists the fixture users")
        self.shot("hosted-login-page")

        # Pick a fixture user: the provider hands back a token, the gateway lands on the dashboard.
        self.press("//button[normalize-space()='Sign in as Ada Lovelace']")
        self.wait_for_url(self.gateway + "/dashboard")
        dashboard = self.dashboard_json()
        self.check(dashboard["user"]["email"] == "ada@example.com", "the dashboard shows Ada")
        self.check("token" not in browser.current_url, "the token is not left in the address bar")
        cookie = browser.get_cookie("gatehouse_session")
        self.check(cookie is not None and cookie["httpOnly"] and cookie.get("sameSite") == "Lax", "an HttpOnly, SameSite=Lax session cookie")
        self.shot("dashboard-fixture-user")

        browser.get(self.gateway + "/")
        self.check("Signed in as Ada Lovelace" in self.text(), "the landing page greets Ada")
        self.shot("landing-signed-in")

        # Logout is a POST form: no JavaScript needed.
        self.press("//form[@action='/logout']/button")
        self.wait.until(lambda browser: "You are not signed in." in self.text())
        self.check(browser.get_cookie("gatehouse_session") is None, "the session cookie is gone")
        self.shot("logged-out")

        # Register a new user the same way.
        browser.find_element(By.LINK_TEXT, "Register").click()
        self.wait_for_url(self.idp + "/auth.aspx?action=register")
        form = browser.find_element(By.XPATH, "//form[input[@name='action' and @value='register']]")
        form.find_element(By.NAME, "first_name").send_keys("Katherine")
        form.find_element(By.NAME, "last_name").send_keys("Johnson")
        form.find_element(By.NAME, "email").send_keys("katherine@example.org")
        self.shot("registration-form")
        form.find_element(By.XPATH, ".//input[@type='submit']").click()
        self.wait_for_url(self.gateway + "/dashboard")
        dashboard = self.dashboard_json()
        self.check(dashboard["user"]["email"] == "katherine@example.org", "the dashboard shows the new user")
        self.check(dashboard["user"]["name"] == "Katherine Johnson", "with the name she registered")
        self.shot("dashboard-new-user")

        browser.get(self.gateway + "/")
        self.check("Signed in as Katherine Johnson" in self.text(), "the landing page greets the new user")
        self.press("//form[@action='/logout']/button")
        self.wait.until(lambda browser: "You are not signed in." in self.text())
        self.shot("logged-out-again")

        # Logged out for real: the dashboard sends the browser back to login.
        browser.get(self.gateway + "/dashboard")
        self.wait_for_url(self.idp + "/auth.aspx?action=login")
        self.shot("dashboard-back-to-login")

    def run_oidc(self):
        browser = self.browser
        browser.get(self.gateway + "/")
        self.check("You are not signed in." in self.text(), "the landing page should say nobody is signed in")
        self.shot("landing-signed-out")

        # A gated page sends the browser to the provider's authorization endpoint, with PKCE.
        browser.get(self.gateway + "/dashboard")
        self.wait_for_url(self.idp + "/oauth/authorize?response_type=code")
        self.check("code_challenge_method=S256" in browser.current_url, "the authorization request carries PKCE S256")
        self.check("Sign in as Ada Lovelace" in self.text(), "the authorize page lists the fixture users")
        self.shot("authorize-page")

        # Pick a user: the provider sends a code back, the gateway exchanges it and checks the ID token.
        self.press("//button[normalize-space()='Sign in as Ada Lovelace']")
        self.wait_for_url(self.gateway + "/dashboard")
        dashboard = self.dashboard_json()
        self.check(dashboard["user"]["email"] == "ada@example.com", "the dashboard shows Ada")
        self.check(dashboard["profile"]["iss"] == self.idp, "the profile holds the ID token's claims")
        self.check("code=" not in browser.current_url, "the code is not left in the address bar")
        self.shot("dashboard-id-token-claims")

        browser.get(self.gateway + "/")
        self.check("Signed in as Ada Lovelace" in self.text(), "the landing page greets Ada")
        self.shot("landing-signed-in")

        # Logging out goes through the provider's end-session endpoint and back.
        self.press("//form[@action='/logout']/button")
        self.wait.until(lambda browser: browser.current_url.startswith(self.gateway) and "You are not signed in." in self.text())
        self.check(browser.get_cookie("gatehouse_session") is None, "the session cookie is gone")
        self.shot("logged-out-through-end-session")

        # Registration asks the provider for its sign-up page (prompt=create).
        browser.find_element(By.LINK_TEXT, "Register").click()
        self.wait_for_url(self.idp + "/oauth/authorize?")
        self.check("prompt=create" in browser.current_url, "register sends prompt=create")
        form = browser.find_element(By.XPATH, "//form[input[@name='action' and @value='register']]")
        form.find_element(By.NAME, "first_name").send_keys("Katherine")
        form.find_element(By.NAME, "last_name").send_keys("Johnson")
        form.find_element(By.NAME, "email").send_keys("katherine@example.org")
        self.shot("registration-form")
        form.find_element(By.XPATH, ".//input[@type='submit']").click()
        self.wait_for_url(self.gateway + "/dashboard")
        self.check(self.dashboard_json()["user"]["name"] == "Katherine Johnson", "the dashboard shows the new user")
        self.shot("dashboard-new-user")

        browser.get(self.gateway + "/")
        self.press("//form[@action='/logout']/button")
        self.wait.until(lambda browser: browser.current_url.startswith(self.gateway) and "You are not signed in." in self.text())

        # Declining at the provider comes back as a clear refusal, and no session.
        browser.get(self.gateway + "/dashboard")
        self.wait_for_url(self.idp + "/oauth/authorize?")
        self.press("//button[normalize-space()='Decline and go back']")
        self.wait_for_url(self.gateway + "/login/callback")
        self.check("cancelled or refused" in self.text(), "the gateway says the sign-in was declined")
        self.check(browser.get_cookie("gatehouse_session") is None, "no session")
        self.shot("declined-at-provider")

    def run_denied(self):
        """`gatehouse demo --provider oidc --allow-groups admins`: Grace (staff) is turned away."""
        browser = self.browser
        browser.get(self.gateway + "/login")
        self.wait_for_url(self.idp + "/oauth/authorize?")
        self.press("//button[normalize-space()='Sign in as Grace Hopper']")
        self.wait.until(lambda browser: "may not use this site" in self.text())
        self.check(browser.current_url.startswith(self.gateway + "/login/callback"), "the refusal is the gateway's callback page")
        self.check("grace@example.com" in self.text(), "the page names the account")
        self.check(browser.get_cookie("gatehouse_session") is None, "no session")
        self.shot("not-allowed")

        # The page offers to sign out at the provider, to come back as someone else.
        browser.find_element(By.LINK_TEXT, "Sign out at the identity provider").click()
        self.wait.until(lambda browser: browser.current_url.startswith(self.gateway) and "You are not signed in." in self.text())
        self.shot("signed-out-at-provider")

        browser.find_element(By.LINK_TEXT, "Log in").click()
        self.wait_for_url(self.idp + "/oauth/authorize?")
        self.press("//button[normalize-space()='Sign in as Ada Lovelace']")
        self.wait_for_url(self.gateway + "/dashboard")
        self.check(self.dashboard_json()["user"]["email"] == "ada@example.com", "an admin gets in")
        self.shot("dashboard-allowed-user")


    def run_proxy(self):
        """`gatehouse demo --upstream URL`: the app behind the gateway, reached through a login."""
        browser = self.browser
        browser.get(self.gateway + "/reports/q3?sort=desc")
        self.wait_for_url(self.idp + "/auth.aspx?action=login")
        self.shot("app-sends-to-login")

        self.press("//button[normalize-space()='Sign in as Ada Lovelace']")
        self.wait_for_url(self.gateway + "/reports/q3?sort=desc")
        echo = self.dashboard_json()
        headers = {name.lower(): value for name, value in echo["headers"]}
        self.check(echo["target"] == "/reports/q3?sort=desc", "the app gets the path and query the browser asked for")
        self.check(headers.get("x-forwarded-user") == "f2005bd2b4a24b5e9d5f1c0e7a3b9c41", "the app is told Ada's id")
        self.check(headers.get("x-forwarded-email") == "ada@example.com", "and her email")
        self.check("gatehouse_session" not in headers.get("cookie", ""), "the session cookie stays with the gateway")
        self.shot("app-as-ada")

        # Log out with a form post from the app's page (the app's own page has no such form).
        browser.execute_script(
            "const form = document.createElement('form'); form.method = 'post'; form.action = '/logout';"
            "document.body.appendChild(form); form.submit();"
        )
        self.wait_for_url(self.idp + "/auth.aspx?action=login")
        self.check(browser.get_cookie("gatehouse_session") is None, "the session cookie is gone")
        browser.get(self.gateway + "/reports/q3")
        self.wait_for_url(self.idp + "/auth.aspx?action=login")
        self.shot("logged-out-app-closed")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--gateway", required=True, help="the demo gateway's URL, e.g. http://127.0.0.1:8080")
    parser.add_argument("--idp", required=True, help="the demo mock provider's URL, e.g. http://127.0.0.1:8090")
    parser.add_argument("--out", required=True, help="the folder for the screenshots")
    parser.add_argument("--provider", choices=["loginradius", "oidc"], default="loginradius", help="the protocol the demo runs")
    parser.add_argument(
        "--flow", choices=["demo", "denied", "proxy"], default="demo", help="denied: the demo runs with --allow-groups admins; proxy: with --upstream"
    )
    arguments = parser.parse_args()
    os.makedirs(arguments.out, exist_ok=True)
    browser = start_browser()
    try:
        flow = Flow(browser, arguments.gateway.rstrip("/"), arguments.idp.rstrip("/"), arguments.out)
        if arguments.flow == "denied":
            flow.run_denied()
        elif arguments.flow == "proxy":
            flow.run_proxy()
        elif arguments.provider == "oidc":
            flow.run_oidc()
        else:
            flow.run()
    except AssertionError as failure:
        browser.save_screenshot(os.path.join(arguments.out, "failure.png"))
        print(f"FAILED {failure}", file=sys.stderr)
        return 1
    finally:
        browser.quit()
    print("browser flow passed", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
