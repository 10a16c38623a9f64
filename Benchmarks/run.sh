#!/usr/bin/env bash
# Gatehouse's benchmark. Builds in release mode, starts a bare Hummingbird server (the ceiling:
# Benchmarks/BareHummingbird, the same Hummingbird as the gateway's), the mock provider and
# gateways on loopback, and measures with wrk (64 connections, 2 threads, on the same machine):
#   the ceiling and /healthz; /auth and /dashboard with each store (memory, SQLite, PostgreSQL),
#   with the provider's confirmation cached and with a provider call per request; whole logins
#   with LoginRadius and with OpenID Connect; resident memory with 100,000 sessions in the memory
#   store; /dashboard with 1,000,000 sessions in the SQLite store; reverse-proxy mode, a small and
#   a 1 MiB answer of the bare server through the gateway (with a session, and on a public path)
#   against the same server hit directly, through nginx as the reference reverse proxy (when nginx
#   is installed), and through a bare Hummingbird forwarding with AsyncHTTPClient (the floor of a
#   proxy on the gateway's stack). Every rate is printed as a ratio of the ceiling measured in the
#   same run (and the bare server logging each request with Hummingbird's own middleware, the
#   floor of a server that logs), and the proxies' as the cost of a proxied request in direct requests.
#
#   Benchmarks/run.sh                 10 s per measurement
#   BENCH_SECONDS=30 Benchmarks/run.sh
#   BENCH_POSTGRES_URL=postgres://…   the PostgreSQL store's database (default: GATEHOUSE_TEST_POSTGRES_URL;
#                                     without either, PostgreSQL is left out)
#   BENCH_PARTS=proxy                 only some parts: gate (stores, logins), memory (100,000 sessions),
#                                     sqlite (1,000,000 sessions), proxy; comma-separated, all by default
#
# Needs wrk, sqlite3 and curl (Debian: apt-get install -y wrk sqlite3 curl; done here when root).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${BENCH_SECONDS:-10}"
connections=64
# Logins run with 32 connections: below the provider-call budget's most (48), so what is measured is
# the cost of a login, not the 503s of the budget that protects the provider.
login_connections=32
threads=2
here=Benchmarks

missing=()
for tool in wrk sqlite3 curl; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if [ "${#missing[@]}" -gt 0 ]; then
    if [ "$(id -u)" -eq 0 ]; then
        apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null; }
    else
        echo "Benchmarks need: ${missing[*]} (apt-get install -y ${missing[*]})" >&2
        exit 1
    fi
fi

echo "== building (release)"
swift build -c release --product gatehouse 2>&1 | grep -E "error|warning: unre|Build" || true
swift build -c release --product BareHummingbird 2>&1 | grep -E "error|warning: unre|Build" || true
bin="$(swift build -c release --show-bin-path)/gatehouse"
bare_bin="$(swift build -c release --show-bin-path)/BareHummingbird"
postgres_url="${BENCH_POSTGRES_URL:-${GATEHOUSE_TEST_POSTGRES_URL:-}}"

work="$(mktemp -d)"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

# start NAME ARGS...: runs the gateway binary (or $program), waits for its "listening on" line,
# sets $port and $pid.
start() {
    local name="$1"; shift
    "${program:-$bin}" "$@" >"$work/$name.log" 2>&1 &
    pid=$!
    pids+=("$pid")
    port=""
    for _ in $(seq 1 200); do
        port="$(grep -oE 'listening on http://127\.0\.0\.1:[0-9]+' "$work/$name.log" | grep -oE '[0-9]+$' | head -n 1 || true)"
        [ -n "$port" ] && return 0
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    echo "$name did not start:" >&2
    cat "$work/$name.log" >&2
    exit 1
}

stop() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

# gateway NAME STORE REVALIDATE [PROVIDER]: writes a configuration and starts a gateway on it
# (PROVIDER: loginradius, the default, or oidc). Every request comes from one address here, so the
# per-client login rate is lifted, and the provider-call budget set to its most: what is measured
# is the cost of a login, not the limits that protect it.
gateway() {
    local name="$1" store="$2" revalidate="$3" kind="${4:-loginradius}" extra="${5:-}" provider database=""
    [ "$store" = postgres ] && database='"postgresURL": "env:BENCH_STORE_POSTGRES_URL", "encryptionKey": "'"$bench_key"'",'
    if [ "$kind" = oidc ]; then
        provider='{"type": "oidc", "issuer": "'"$idp"'", "clientID": "gatehouse-demo", "clientSecret": "gatehouse-demo-secret", "timeoutSeconds": 5}'
    else
        provider='{"type": "loginradius", "apiKey": "bench", "hostedPageURL": "'"$idp"'/auth.aspx", "apiURL": "'"$idp"'", "timeoutSeconds": 5}'
    fi
    cat >"$work/$name.json" <<JSON
{
  "publicURL": "http://127.0.0.1:8080",
  "listen": {"host": "127.0.0.1", "port": 0},
  "provider": $provider,
  "sessions": {"store": "$store", "sqlitePath": "$work/$name.sqlite", $database "secureCookies": false, "revalidateAfterSeconds": $revalidate},
  "logins": {"perClientPerMinute": 1000000, "providerCallsAtOnce": 48}$extra
}
JSON
    BENCH_STORE_POSTGRES_URL="$postgres_url" start "$name" serve --config "$work/$name.json"
}

# login BASE: one whole login with curl; prints the session cookie's value.
login() {
    local base="$1" headers attempt path
    headers="$(curl -s -D - -o /dev/null "$base/login")"
    # The attempt's own cookie, name and value: gatehouse_session_state_<id>=<sealed attempt>.
    attempt="$(printf '%s' "$headers" | grep -i '^set-cookie: gatehouse_session_state_' | sed -E 's/^[Ss]et-[Cc]ookie: ([^;]+).*/\1/' | tr -d '\r')"
    path="$(printf '%s' "$headers" | grep -i '^location:' | grep -oE 'return_url=[^&[:space:]]+' | sed 's/^return_url=//' \
        | python3 -c 'import sys, urllib.parse; print(urllib.parse.urlsplit(urllib.parse.unquote(sys.stdin.read().strip())).path)')"
    # A token of its own (the mock accepts the family): one token opens one session.
    curl -s -D - -o /dev/null -H "Cookie: $attempt" "$base$path?token=$token-curl-$RANDOM$RANDOM" \
        | grep -i '^set-cookie: gatehouse_session=' | sed -E 's/^[^=]+=([^;]+).*/\1/' | tr -d '\r'
}

# measure LABEL URL [SCRIPT [CONNECTIONS]]: runs wrk and records "LABEL rps p50 p99 extra".
results=()
measure() {
    local label="$1" url="$2" script="${3:-$here/get.lua}" open="${4:-$connections}" line
    line="$(wrk -t"$threads" -c"$open" -d"${seconds}s" --latency -s "$script" "$url" | grep '^RESULT' || true)"
    [ -n "$line" ] || { echo "wrk gave no result for $label" >&2; exit 1; }
    results+=("$label|$line")
    echo "   $label: $line"
}
field() { printf "%s" "$1" | grep -oE "$2=[0-9.]+" | cut -d= -f2 || true; }
part() { [ -z "${BENCH_PARTS:-}" ] || [[ ",$BENCH_PARTS," == *",$1,"* ]]; }
rss_mb() { awk '/VmRSS/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status"; }

ada="f2005bd2b4a24b5e9d5f1c0e7a3b9c41"
token="bench$(date +%s)$RANDOM$RANDOM"
bench_key="$(head -c 32 /dev/urandom | base64)"

echo "== measuring (${seconds} s each, $connections connections, $threads threads)"
program="$bare_bin" start bare
bare_pid="$pid"
measure "bare Hummingbird GET /hello (ceiling)" "http://127.0.0.1:$port/hello"
stop "$bare_pid"
# A reference, not a target: the same server with Hummingbird's own request log, a line per request.
program="$bare_bin" start bare-logging 0 --log-requests
measure "bare Hummingbird logging each request (reference)" "http://127.0.0.1:$port/hello"
stop "$pid"

start mock-idp mock-idp --port 0 --fixed-token "$token:$ada" --fixed-token "$token-*:$ada" --open-codes-for "$ada" --log-level warning
idp="http://127.0.0.1:$port"
mock_pid="$pid"
BENCH_AUTHORIZATION="Bearer $token" measure "mock provider alone (profile API)" "$idp/identity/v2/auth/account?apikey=bench"

if part gate; then
stores=(memory sqlite)
if [ -n "$postgres_url" ]; then stores+=(postgres); else echo "   (PostgreSQL left out: set BENCH_POSTGRES_URL)"; fi
for store in "${stores[@]}"; do
    gateway "cached-$store" "$store" 30
    base="http://127.0.0.1:$port"
    gateway_pid="$pid"
    session="$(login "$base")"
    [ -n "$session" ] || { echo "could not log in to the $store gateway" >&2; cat "$work/cached-$store.log" >&2; exit 1; }
    if [ "$store" = memory ]; then
        measure "/healthz" "$base/healthz"
        BENCH_TOKEN="$token" measure "logins, LoginRadius" "$base/login" "$here/login.lua" "$login_connections"
    fi
    BENCH_COOKIE="gatehouse_session=$session" measure "/auth, $store, cached" "$base/auth"
    BENCH_COOKIE="gatehouse_session=$session" measure "/dashboard, $store, cached" "$base/dashboard"
    stop "$gateway_pid"

    gateway "uncached-$store" "$store" 0
    base="http://127.0.0.1:$port"
    gateway_pid="$pid"
    session="$(login "$base")"
    BENCH_COOKIE="gatehouse_session=$session" measure "/auth, $store, provider call per request" "$base/auth"
    BENCH_COOKIE="gatehouse_session=$session" measure "/dashboard, $store, provider call per request" "$base/dashboard"
    stop "$gateway_pid"
done

gateway oidc memory 30 oidc
BENCH_TOKEN="$token" measure "logins, OpenID Connect" "http://127.0.0.1:$port/login" "$here/login.lua" "$login_connections"
stop "$pid"
fi

rss_empty="-" rss_full="-" sessions_made="100,000"
if part memory; then
echo "== memory store with 100,000 sessions"
gateway memory memory 30
memory_pid="$pid"
rss_empty="$(rss_mb "$memory_pid")"
# wrk runs for its whole duration even after every thread stopped at its share of 100,000 logins:
# give it the time the login measurement above says 100,000 logins take, and a margin.
login_rate="$(for row in "${results[@]}"; do field "$row" logins_per_s; done | head -n 1)"
fill_seconds="$(awk -v r="${login_rate:-1000}" 'BEGIN { s = int(100000 / (r > 0 ? r : 1000) * 1.5) + 5; print (s > 300 ? 300 : s) }')"
fill="$(BENCH_TOKEN="$token" BENCH_LOGINS_PER_THREAD=$((100000 / threads)) \
    wrk -t"$threads" -c"$connections" -d"${fill_seconds}s" -s "$here/login.lua" "http://127.0.0.1:$port/login" | grep '^RESULT')"
sessions_made="$(field "$fill" logins)"
rss_full="$(rss_mb "$memory_pid")"
echo "   $sessions_made logins in ${fill_seconds} s; resident memory: $rss_empty MB empty, $rss_full MB with the sessions"
stop "$memory_pid"
fi

if part sqlite; then
echo "== SQLite store with 1,000,000 sessions"
gateway sqlite sqlite 30
sqlite_base="http://127.0.0.1:$port"
sqlite_pid="$pid"
session="$(login "$sqlite_base")"
now="$(date +%s)"
# Filler rows: random keys and sealed-sized random blobs, live for the whole run.
sqlite3 "$work/sqlite.sqlite" >/dev/null <<SQL
PRAGMA busy_timeout = 10000;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 999999)
INSERT INTO gatehouse_sessions (key, sealed_token, sealed_profile, created_at, last_seen_at, validated_at)
SELECT randomblob(32), randomblob(80), randomblob(900), $now, $now, $now FROM n;
SQL
echo "   sessions in the store: $(sqlite3 "$work/sqlite.sqlite" 'SELECT count(*) FROM gatehouse_sessions')"
BENCH_COOKIE="gatehouse_session=$session" measure "/dashboard, SQLite with 1,000,000 sessions" "$sqlite_base/dashboard"
stop "$sqlite_pid"
fi

if part proxy; then
echo "== reverse proxy in front of the bare server"
program="$bare_bin" start app
app_pid="$pid"
app="http://127.0.0.1:$port"
measure "app direct, GET /hello" "$app/hello"
measure "app direct, GET /megabyte (1 MiB)" "$app/megabyte"
if command -v nginx >/dev/null; then
    # The reference: nginx with its defaults for proxying (buffered, a worker per core) and kept-alive
    # connections to the app, as a production nginx in front of an app is set up.
    nginx_port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    cat >"$work/nginx.conf" <<NGINX
worker_processes auto;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
daemon off;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $work/nginx-body;
    proxy_temp_path $work/nginx-proxy;
    upstream app { server 127.0.0.1:${app##*:}; keepalive 64; }
    server {
        listen 127.0.0.1:$nginx_port;
        location / { proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection ""; }
    }
}
NGINX
    nginx -c "$work/nginx.conf" -e "$work/nginx-error.log" &
    nginx_pid=$!
    pids+=("$nginx_pid")
    for _ in $(seq 1 50); do curl -sf -o /dev/null "http://127.0.0.1:$nginx_port/hello" && break; sleep 0.1; done
    measure "nginx in front (reference), GET /hello" "http://127.0.0.1:$nginx_port/hello"
    measure "nginx in front (reference), GET /megabyte (1 MiB)" "http://127.0.0.1:$nginx_port/megabyte"
    stop "$nginx_pid"
else
    echo "   (nginx left out: apt-get install -y nginx to measure the reference proxy)"
fi
# The floor of a proxy on this stack: a bare Hummingbird passing each GET to the app with
# AsyncHTTPClient, with no gate, no header rules and no log.
program="$bare_bin" start forwarder 0 --forward-to "$app"
measure "bare Hummingbird + AsyncHTTPClient (floor), GET /hello" "http://127.0.0.1:$port/hello"
measure "bare Hummingbird + AsyncHTTPClient (floor), GET /megabyte (1 MiB)" "http://127.0.0.1:$port/megabyte"
stop "$pid"
gateway proxy memory 30 loginradius ', "upstreams": [{"pathPrefix": "/", "url": "'"$app"'"}], "access": {"routes": [{"pathPrefix": "/open/", "policy": "public"}]}'
proxy_base="http://127.0.0.1:$port"
proxy_pid="$pid"
session="$(login "$proxy_base")"
[ -n "$session" ] || { echo "could not log in to the proxy gateway" >&2; cat "$work/proxy.log" >&2; exit 1; }
BENCH_COOKIE="gatehouse_session=$session" measure "proxied, signed in, GET /hello" "$proxy_base/hello"
BENCH_COOKIE="gatehouse_session=$session" measure "proxied, signed in, GET /megabyte (1 MiB)" "$proxy_base/megabyte"
measure "proxied, public path, GET /open/hello" "$proxy_base/open/hello"
stop "$proxy_pid"
stop "$app_pid"
fi

echo
echo "== results ($(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo))"
ceiling_rps=""
lr_logins=""
for row in "${results[@]}"; do
    label="${row%%|*}"
    [ "$label" = "bare Hummingbird GET /hello (ceiling)" ] && ceiling_rps="$(field "$row" rps)"
    [ "$label" = "logins, LoginRadius" ] && lr_logins="$(field "$row" logins_per_s)"
done
printf '%-48s %10s %9s %9s %9s\n' "measurement" "req/s" "p50 ms" "p99 ms" "× ceiling"
for row in "${results[@]}"; do
    label="${row%%|*}"
    rps="$(field "$row" rps)"
    ratio="$(awk -v a="$rps" -v b="$ceiling_rps" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')"
    printf '%-48s %10s %9s %9s %9s\n' "$label" "$rps" "$(field "$row" p50)" "$(field "$row" p99)" "$ratio"
    logins="$(field "$row" logins_per_s || true)"
    if [ -n "$logins" ]; then
        versus="$(awk -v a="$logins" -v b="$lr_logins" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')"
        printf '%-48s %10s %30s\n' "   completed logins/s" "$logins" "× LoginRadius logins: $versus"
    fi
done
direct_small="" direct_large=""
for row in "${results[@]}"; do
    label="${row%%|*}"
    [ "$label" = "app direct, GET /hello" ] && direct_small="$(field "$row" rps)"
    [ "$label" = "app direct, GET /megabyte (1 MiB)" ] && direct_large="$(field "$row" rps)"
done
for row in "${results[@]}"; do
    label="${row%%|*}"
    rps="$(field "$row" rps)"
    case "$label" in
        "app direct"*) continue ;;
        "proxied, signed in, GET /hello" | "proxied, public path"* | *"GET /hello") direct="$direct_small" ;;
        "proxied, signed in, GET /megabyte (1 MiB)" | *"GET /megabyte (1 MiB)") direct="$direct_large" ;;
        *) continue ;;
    esac
    cost="$(awk -v a="$direct" -v b="$rps" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')"
    printf '%-72s %8s\n' "   cost of one request, ${label}" "$cost× direct"
done
printf '%-48s %10s\n' "memory store: resident MB, empty" "$rss_empty"
printf '%-48s %10s\n' "memory store: resident MB, $sessions_made sessions" "$rss_full"
stop "$mock_pid"
