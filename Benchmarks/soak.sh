#!/usr/bin/env bash
# Soak: mixed load (logins, gated requests, /auth, logouts) against the gateway binary for a while,
# with 5% of provider calls failing, on a release build. Prints requests, statuses per kind and the
# gateway's resident memory after warm-up and at the end; fails on any 500, a crash or memory
# that keeps growing. The test it runs is SoakTests (it also runs, at 60 s, in the debug suite).
#
#   Benchmarks/soak.sh [SECONDS]      # default 60
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
swift build -c release --build-tests --scratch-path .build-release >/dev/null
GATEHOUSE_SOAK_SECONDS="$seconds" swift test -c release --skip-build --scratch-path .build-release --filter SoakTests 2>&1 \
    | grep -E '^soak:|✔|✘'
