-- wrk script: whole logins against the gateway. Each connection alternates, with LoginRadius,
--   GET /login                                 -> 303 to the hosted page, state cookie
--   GET /login/callback/STATE?token=TOKEN      -> 303 /dashboard, session cookie (a provider call)
-- Each login brings a token of its own, TOKEN followed by a counter: the mock accepts the family
-- (mock-idp --fixed-token 'TOKEN*:UID'), and one token opens one session. With OpenID Connect,
--   GET /login                                 -> 303 to the authorization endpoint, state cookie
--   GET /login/callback?code=CODE&state=STATE  -> 303 /dashboard, session cookie (the code exchange,
--                                                 the ID token's signature check, userinfo)
-- where CODE is an open code carrying the request's nonce and PKCE challenge (mock-idp
-- --open-codes-for UID): the page is skipped, nothing else. Prints one RESULT line
-- with completed logins per second. BENCH_LOGINS_PER_THREAD, when set, stops each thread after that
-- many logins (used to fill the memory store).
local token = os.getenv("BENCH_TOKEN")
local limit = tonumber(os.getenv("BENCH_LOGINS_PER_THREAD") or "0")
local threads = {}
local queue = {}
local issued = 0
logins = 0
failures = 0

function setup(thread)
    table.insert(threads, thread)
    thread:set("id", #threads)
end

function request()
    local next = table.remove(queue)
    if next then
        return wrk.format("GET", next.path, { ["Cookie"] = next.cookie })
    end
    return wrk.format("GET", "/login")
end

function response(status, headers, body)
    local location = headers["Location"] or headers["location"] or ""
    local cookie = headers["Set-Cookie"] or headers["set-cookie"] or ""
    if status == 303 and location == "/dashboard" then
        logins = logins + 1
        if limit > 0 and logins >= limit then wrk.thread:stop() end
    elseif status == 303 and location:find("code_challenge=", 1, true) then
        local attempt = cookie:match("(gatehouse_session_state_[^=]+=[^;]+)")
        local state = location:match("[?&]state=([^&]+)")
        local nonce = location:match("[?&]nonce=([^&]+)")
        local challenge = location:match("[?&]code_challenge=([^&]+)")
        if attempt and state and nonce and challenge then
            issued = issued + 1
            local code = "open." .. nonce .. "." .. challenge .. "." .. tostring(id or 0) .. "-" .. issued
            table.insert(queue, { path = "/login/callback?code=" .. code .. "&state=" .. state, cookie = attempt })
        else
            failures = failures + 1
        end
    elseif status == 303 then
        local returnURL = location:match("return_url=([^&]+)")
        -- The attempt's own cookie: gatehouse_session_state_<id>=<sealed attempt>.
        local attempt = cookie:match("(gatehouse_session_state_[^=]+=[^;]+)")
        if returnURL and attempt then
            local decoded = returnURL:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end)
            local path = decoded:match("https?://[^/]+(/.*)$")
            issued = issued + 1
            local own = token .. "-" .. tostring(id or 0) .. "-" .. issued
            table.insert(queue, { path = path .. "?token=" .. own, cookie = attempt })
        else
            failures = failures + 1
        end
    else
        failures = failures + 1
    end
end

function done(summary, latency, requests)
    local total, failed = 0, 0
    for _, thread in ipairs(threads) do
        total = total + thread:get("logins")
        failed = failed + thread:get("failures")
    end
    local seconds = summary.duration / 1e6
    io.write(string.format("RESULT requests=%d rps=%.0f p50=%.2f p99=%.2f logins=%d logins_per_s=%.0f failures=%d\n",
        summary.requests, summary.requests / seconds, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
        total, total / seconds, failed))
end
