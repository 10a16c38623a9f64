#!/usr/bin/env bash
# Starts a real OpenID Connect provider (Canaille 0.3.6, Yaal Coop's production IdP) on loopback
# for Gatehouse's real-provider suite (Tests/GatehouseTests/Integration/RealOpenIDProviderTests.swift).
# .ci/run runs it; to run the suite locally:
#
#   bash Tests/OpenIDProvider/start-canaille.sh
#   export GATEHOUSE_TEST_OIDC_PROVIDER=.build/oidc-provider/provider.json
#   swift test --filter RealOpenIDProvider
#
#   bash start-canaille.sh [PORT]   # PORT defaults to $OIDC_PORT or 18081
#
# Environment knobs (all optional):
#   OIDC_PORT        provider port (the first argument wins)           default 18081
#   GATEHOUSE_PORT   port of the RP; used in redirect/post-logout URIs  default 18080
#   OIDC_STATE_DIR   config, key, SQLite DB, log, pid, provider.json    default .build/oidc-provider
#   OIDC_VENV        virtualenv holding canaille                        default .build/oidc-venv
#   OIDC_PYTHON      interpreter used to create the venv                default python3
#   OIDC_TOKEN_TTL   access-token lifetime in seconds (also the refresh token's: both
#                    live in one DB row)                                 default 864000 (10 days)
#   OIDC_PATCH_JTI   1 = add a random jti to access tokens (work-around, see below), 0 = stock
#
# What it does: installs canaille into a venv (skipped when already there), writes
# canaille.toml (SQLite backend, fixed RSA signing key, issuer http://127.0.0.1:PORT),
# recreates the database, seeds one user + 2 groups + 3 clients, starts the server
# in the background, waits for the discovery document and prints everything a
# test needs. Machine-readable copies: $OIDC_STATE_DIR/provider.json and provider.env.
# Stop it with:  kill "$(cat "$OIDC_STATE_DIR/canaille.pid")"
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"

PORT="${1:-${OIDC_PORT:-18081}}"
RP_PORT="${GATEHOUSE_PORT:-18080}"
STATE_DIR="${OIDC_STATE_DIR:-$ROOT/.build/oidc-provider}"
VENV="${OIDC_VENV:-$ROOT/.build/oidc-venv}"
PY="${OIDC_PYTHON:-python3}"
CANAILLE_VERSION="0.3.6"
CANAILLE_SPEC="canaille[front,oidc,sqlite,server]==${CANAILLE_VERSION}"

ISSUER="http://127.0.0.1:${PORT}"
REDIRECT_URI="http://127.0.0.1:${RP_PORT}/login/callback"
POST_LOGOUT_URI="http://127.0.0.1:${RP_PORT}/"

# Test fixtures (fixed so that tests can hard-code them).
USER_NAME="alice"
USER_PASSWORD="Alice-Passw0rd!"
USER_EMAIL="alice@example.test"
USER_GIVEN="Alice"
USER_FAMILY="Liddell"
USER_GROUPS="gatehouse-admins,staff"
CONF_ID="gatehouse-confidential"; CONF_SECRET="gatehouse-confidential-secret"
PUB_ID="gatehouse-public"
CONSENT_ID="gatehouse-consent";    CONSENT_SECRET="gatehouse-consent-secret"

log() { printf '[start-canaille] %s\n' "$*" >&2; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

mkdir -p "$STATE_DIR"
T_ALL=$(now)

# ---------------------------------------------------------------- 1. install
if [ -x "$VENV/bin/canaille" ] && "$VENV/bin/python" - "$CANAILLE_VERSION" <<'EOF' 2>/dev/null
import sys, importlib.metadata as m
sys.exit(0 if m.version("canaille") == sys.argv[1] else 1)
EOF
then
  log "canaille $CANAILLE_VERSION already installed in $VENV (skipping pip)"
else
  T=$(now)
  if ! "$PY" -m venv "$VENV" >/dev/null 2>&1; then
    # Debian's python3 ships without ensurepip: python3-venv is needed.
    log "python3 -m venv failed; installing python3-venv with apt-get"
    rm -rf "$VENV"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
    "$PY" -m venv "$VENV"
  fi
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "$CANAILLE_SPEC"
  log "installed $CANAILLE_SPEC in $(elapsed "$T")s"
fi
VPY="$VENV/bin/python"

# ------------------------------------------------- 2. stop a previous instance
PID_FILE="$STATE_DIR/canaille.pid"
if [ -f "$PID_FILE" ] && kill -0 "$(cat "$PID_FILE")" 2>/dev/null; then
  log "stopping previous provider (pid $(cat "$PID_FILE"))"
  kill "$(cat "$PID_FILE")" || true
  for _ in $(seq 1 50); do kill -0 "$(cat "$PID_FILE")" 2>/dev/null || break; sleep 0.1; done
fi
rm -f "$PID_FILE"
if "$VPY" - "$PORT" <<'EOF'
import socket, sys
s = socket.socket()
try:
    s.connect(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
EOF
then
  log "ERROR: something else is already listening on 127.0.0.1:$PORT"; exit 1
fi

# --------------------------------------------------------- 3. key + config
# The RSA signing key is kept across runs (stable kid / JWKS); everything else is rewritten.
export CANAILLE_CONFIG="$STATE_DIR/canaille.toml"
"$VPY" - "$STATE_DIR" "$PORT" "${OIDC_TOKEN_TTL:-864000}" <<'EOF'
import json, os, secrets, sys
from joserfc.jwk import RSAKey

state, port, ttl = sys.argv[1], sys.argv[2], int(sys.argv[3])
key_file = os.path.join(state, "signing-key.json")
if not os.path.exists(key_file):
    key = RSAKey.generate_key(2048, auto_kid=True).as_dict(private=True)
    key.update(alg="RS256", use="sig")     # published as-is in the JWKS
    with open(key_file, "w") as f:
        json.dump(key, f)
    os.chmod(key_file, 0o600)
key = json.load(open(key_file))

def toml_str(v):                           # JSON strings are valid TOML basic strings
    return json.dumps(v)

inline_key = "{ " + ", ".join(f"{k} = {toml_str(v)}" for k, v in key.items()) + " }"
db = os.path.join(state, "canaille.sqlite")
config = f"""\
# generated by start-canaille.sh -- Canaille configuration for Gatehouse's tests
SECRET_KEY = {toml_str(secrets.token_urlsafe(32))}
# SERVER_NAME makes the issuer exactly http://127.0.0.1:{port} (no trailing slash)
SERVER_NAME = "127.0.0.1:{port}"
PREFERRED_URL_SCHEME = "http"

# authlib setting: expires_in of the tokens, per grant type
[OAUTH2_TOKEN_EXPIRES_IN]
authorization_code = {ttl}
refresh_token = {ttl}

[CANAILLE]
NAME = "Gatehouse CI IdP"
DATABASE = "sql"

[CANAILLE_SQL]
DATABASE_URI = "sqlite:///{db}"

[CANAILLE_OIDC]
# Clients whose client_uri host is listed here skip the consent screen.
TRUSTED_DOMAINS = ["127.0.0.1", ".localhost"]
REQUIRE_NONCE = true
ACTIVE_JWKS = [{inline_key}]
"""
with open(os.path.join(state, "canaille.toml"), "w") as f:
    f.write(config)
EOF

# --------------------------------------------------- 4. database + fixtures
# Fresh database on every start (deterministic tests). create_app() applies the
# alembic migrations itself (CANAILLE_SQL.AUTO_MIGRATE defaults to true).
rm -f "$STATE_DIR/canaille.sqlite"
T=$(now)
export SEED_JSON
SEED_JSON=$(cat <<EOF
{
  "user": {"user_name": "$USER_NAME", "password": "$USER_PASSWORD", "emails": ["$USER_EMAIL"],
           "given_name": "$USER_GIVEN", "family_name": "$USER_FAMILY",
           "formatted_name": "$USER_GIVEN $USER_FAMILY", "display_name": "$USER_NAME"},
  "groups": "$USER_GROUPS",
  "clients": [
    {"client_id": "$CONF_ID", "client_secret": "$CONF_SECRET", "client_name": "Gatehouse (confidential)",
     "token_endpoint_auth_method": "client_secret_basic", "client_uri": "http://127.0.0.1:$RP_PORT/"},
    {"client_id": "$PUB_ID", "client_secret": null, "client_name": "Gatehouse (public)",
     "token_endpoint_auth_method": "none", "client_uri": "http://127.0.0.1:$RP_PORT/"},
    {"client_id": "$CONSENT_ID", "client_secret": "$CONSENT_SECRET", "client_name": "Gatehouse (untrusted, shows consent)",
     "token_endpoint_auth_method": "client_secret_post", "client_uri": null}
  ],
  "redirect_uri": "$REDIRECT_URI",
  "post_logout_redirect_uri": "$POST_LOGOUT_URI"
}
EOF
)
( cd "$STATE_DIR" && "$VPY" - <<'EOF' 2> "$STATE_DIR/seed.log" ) || { cat "$STATE_DIR/seed.log" >&2; exit 1; }
import datetime, json, os
from canaille import create_app
from canaille.app import models
from canaille.backends import Backend

seed = json.loads(os.environ["SEED_JSON"])
app = create_app()
with app.app_context(), Backend.instance.session():
    user = models.User(**seed["user"])          # the SQL backend hashes the password
    Backend.instance.save(user)
    for name in seed["groups"].split(","):
        Backend.instance.save(models.Group(display_name=name, members=[user]))
    now = datetime.datetime.now(datetime.timezone.utc)
    for c in seed["clients"]:
        client = models.Client(
            client_id_issued_at=now,
            redirect_uris=[seed["redirect_uri"]],
            post_logout_redirect_uris=[seed["post_logout_redirect_uri"]],
            grant_types=["authorization_code", "refresh_token"],
            response_types=["code"],
            scope=["openid", "email", "profile", "groups"],
            # Without this, Canaille signs with the "most secure" alg of the key: RS512.
            id_token_signed_response_alg="RS256",
            **{k: v for k, v in c.items() if v is not None},
        )
        Backend.instance.save(client)
        client.audience = [client]               # otherwise the ID token "aud" is empty
        Backend.instance.save(client)
EOF
log "database created and seeded in $(elapsed "$T")s"

# ------------------------------------------------------------------ 5. start
T=$(now)
cd "$STATE_DIR"
# setsid + nohup: survives the end of the CI step's shell; one hypercorn worker
# (Canaille keeps its cache in process memory, so do not use several workers).
#
# Canaille 0.3.6 bug work-around (OIDC_PATCH_JTI=1, the default): its access tokens
# are JWTs built only from iat/exp (1 s resolution) + user claims, with no jti, and
# the token table has a UNIQUE access_token column. Two tokens issued for the same
# user+client+scope within the same second are byte-identical and the 2nd request
# fails with HTTP 500 (sqlite3.IntegrityError). The launcher adds a random "jti"
# claim to the access-token JWT; nothing else is changed. OIDC_PATCH_JTI=0 runs the
# stock code (then space token requests for one user+client >= 1 s apart).
# Hypercorn runs its worker in a multiprocessing *spawn* child that re-imports this
# file as __mp_main__: the patch is at module level (applies in the child too) and
# the CLI call is guarded by __name__ == "__main__".
cat > "$STATE_DIR/launch.py" <<'PYEOF'
import os, secrets, sys
if os.environ.get("OIDC_PATCH_JTI", "1") != "0":
    import canaille.oidc.provider as provider
    _generate = provider.generate_id_token       # only used for access tokens there
    def _generate_with_jti(*args, **kwargs):
        kwargs["user_info"] = {**kwargs["user_info"], "jti": secrets.token_urlsafe(16)}
        return _generate(*args, **kwargs)
    provider.generate_id_token = _generate_with_jti
if __name__ == "__main__":
    from canaille.commands import cli
    sys.argv[0] = "canaille"
    sys.exit(cli())
PYEOF
setsid nohup "$VPY" "$STATE_DIR/launch.py" run --bind "127.0.0.1:$PORT" --workers 1 \
  >"$STATE_DIR/canaille.log" 2>&1 < /dev/null &
echo $! > "$PID_FILE"

if ! "$VPY" - "$ISSUER" "$(cat "$PID_FILE")" <<'EOF'
import json, os, sys, time, urllib.request
issuer, pid = sys.argv[1], int(sys.argv[2])
deadline = time.time() + 60
while time.time() < deadline:
    try:
        os.kill(pid, 0)
    except OSError:
        sys.exit("provider process died")
    try:
        with urllib.request.urlopen(issuer + "/.well-known/openid-configuration", timeout=2) as r:
            meta = json.load(r)
        if meta.get("issuer") == issuer:
            sys.exit(0)
    except Exception:
        pass
    time.sleep(0.1)
sys.exit("timeout waiting for discovery")
EOF
then
  log "provider did not become ready; last log lines:"; tail -n 30 "$STATE_DIR/canaille.log" >&2; exit 1
fi
log "provider ready in $(elapsed "$T")s (pid $(cat "$PID_FILE")); total $(elapsed "$T_ALL")s"

# ------------------------------------------------------------------ 6. report
cat > "$STATE_DIR/provider.json" <<EOF
{
  "issuer": "$ISSUER",
  "discovery_url": "$ISSUER/.well-known/openid-configuration",
  "redirect_uri": "$REDIRECT_URI",
  "post_logout_redirect_uri": "$POST_LOGOUT_URI",
  "pid": $(cat "$PID_FILE"),
  "log": "$STATE_DIR/canaille.log",
  "user": {"username": "$USER_NAME", "password": "$USER_PASSWORD", "email": "$USER_EMAIL",
           "name": "$USER_GIVEN $USER_FAMILY", "given_name": "$USER_GIVEN", "family_name": "$USER_FAMILY",
           "groups": ["gatehouse-admins", "staff"]},
  "clients": {
    "confidential": {"client_id": "$CONF_ID", "client_secret": "$CONF_SECRET", "token_endpoint_auth_method": "client_secret_basic"},
    "public": {"client_id": "$PUB_ID", "client_secret": null, "token_endpoint_auth_method": "none"},
    "consent": {"client_id": "$CONSENT_ID", "client_secret": "$CONSENT_SECRET", "token_endpoint_auth_method": "client_secret_post"}
  }
}
EOF
cat > "$STATE_DIR/provider.env" <<EOF
OIDC_ISSUER=$ISSUER
OIDC_DISCOVERY_URL=$ISSUER/.well-known/openid-configuration
OIDC_REDIRECT_URI=$REDIRECT_URI
OIDC_POST_LOGOUT_REDIRECT_URI=$POST_LOGOUT_URI
OIDC_USERNAME=$USER_NAME
OIDC_PASSWORD=$USER_PASSWORD
OIDC_EMAIL=$USER_EMAIL
OIDC_CONFIDENTIAL_CLIENT_ID=$CONF_ID
OIDC_CONFIDENTIAL_CLIENT_SECRET=$CONF_SECRET
OIDC_PUBLIC_CLIENT_ID=$PUB_ID
OIDC_CONSENT_CLIENT_ID=$CONSENT_ID
OIDC_CONSENT_CLIENT_SECRET=$CONSENT_SECRET
OIDC_PID=$(cat "$PID_FILE")
EOF

cat <<EOF
Canaille $CANAILLE_VERSION is running (pid $(cat "$PID_FILE"), log $STATE_DIR/canaille.log)
  issuer:                $ISSUER
  discovery:             $ISSUER/.well-known/openid-configuration
  redirect_uri:          $REDIRECT_URI
  post_logout_redirect:  $POST_LOGOUT_URI
  user:                  $USER_NAME / $USER_PASSWORD  (email $USER_EMAIL, name "$USER_GIVEN $USER_FAMILY", groups $USER_GROUPS)
  confidential client:   $CONF_ID / $CONF_SECRET  (client_secret_basic, trusted: no consent screen)
  public client:         $PUB_ID  (token_endpoint_auth_method none, PKCE S256, trusted)
  untrusted client:      $CONSENT_ID / $CONSENT_SECRET  (client_secret_post, shows the consent screen)
  machine-readable:      $STATE_DIR/provider.json  $STATE_DIR/provider.env
  stop:                  kill \$(cat $PID_FILE)
EOF
