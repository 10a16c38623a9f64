#!/usr/bin/env bash
# Builds Gatehouse's fuzz targets with libFuzzer and AddressSanitizer, seeds them from the test
# corpora and samples, and runs each for a while. A crash stops the run with the input that
# caused it saved under .build-fuzz/findings/; turn it into a regression test.
#
#   Fuzz/run.sh            60 seconds per target
#   Fuzz/run.sh 20         20 seconds per target (what CI runs)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
work=.build-fuzz
export GATEHOUSE_FUZZ=1
# Swift's own crash backtracer trips AddressSanitizer; libFuzzer reports the crash instead.
export SWIFT_BACKTRACE=enable=no

for target in FuzzRedirectTarget FuzzLoginRadiusResponse FuzzOpenIDAnswers FuzzIDToken; do
    swift build --build-path "$work" --product "$target" -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library -Xswiftc -use-ld=lld
done
bin="$(swift build --build-path "$work" --show-bin-path)"

# Seeds: one file per corpus line for the redirect validator; the provider samples (status byte 0
# picks 200, 6 picks 403) for the response decoder; OpenID Connect answers (the low two bits of
# the first byte pick discovery, token, JWKS or userinfo) and ID tokens from Fuzz/Seeds.
seeds="$work/seeds"
rm -rf "$seeds" && mkdir -p "$seeds/redirect" "$seeds/response" "$seeds/openid" "$seeds/idtoken" "$work/findings"
cp Fuzz/Seeds/openid/* "$seeds/openid/"
cp Fuzz/Seeds/idtoken/* "$seeds/idtoken/"
n=0
while IFS= read -r line || [ -n "$line" ]; do
    case "$line" in "" | "#"*) continue ;; esac
    printf '%s' "$line" > "$seeds/redirect/$n"; n=$((n + 1))
done < <(cat Tests/GatehouseTests/Corpus/hostile-redirects.txt Tests/GatehouseTests/Corpus/legitimate-redirects.txt)
{ printf '\x00'; cat Tests/GatehouseTests/Samples/loginradius-profile.json; } > "$seeds/response/profile"
printf '\x06{"ErrorCode": 905, "Message": "Access token is invalid"}' > "$seeds/response/905"
printf '\x00{"IsPosted": true}' > "$seeds/response/invalidated"
printf '\x08{"Message": "Too many requests"}' > "$seeds/response/429"

run() {
    local target="$1" seeds="$2" corpus="$work/corpus/$1" log="$work/$1.log" code=0
    mkdir -p "$corpus"
    echo "== $target: $(ls "$seeds" | wc -l) seeds, $seconds s"
    "$bin/$target" "$corpus" "$seeds" -max_total_time="$seconds" -max_len=4096 -timeout=5 \
        -artifact_prefix="$work/findings/$target-" -print_final_stats=1 > "$log" 2>&1 || code=$?
    grep -E '^(Done [0-9]+ runs|stat::new_units_added)' "$log" || true
    if [ "$code" -ne 0 ]; then
        grep -E 'Fatal error|precondition|ERROR: |Test unit written|SUMMARY' "$log" >&2 || tail -30 "$log" >&2
    fi
    return "$code"
}
status=0
run FuzzRedirectTarget "$seeds/redirect" || status=$?
run FuzzLoginRadiusResponse "$seeds/response" || status=$?
run FuzzOpenIDAnswers "$seeds/openid" || status=$?
run FuzzIDToken "$seeds/idtoken" || status=$?
if [ "$status" -ne 0 ]; then
    echo "fuzzing found a crash; the input is in $work/findings/" >&2
fi
exit "$status"
