#!/usr/bin/env bash
# Schemathesis (tests/schemathesis/requirements.txt) against the real server on SQLite + files
# with the demo data: every operation of openapi.yaml, every check, the stateful phase too, once
# per role (a token and a console session of that role's demo user). Any failure fails the run.
# Used by .ci/run; the figures of a run are in SECURITY.md.
#   FIELDPROOF_BIN          the server binary (target/debug/fieldproof)
#   FIELDPROOF_ST_EXAMPLES  test cases per operation and phase (25)
#   FIELDPROOF_ST_ROLES     the demo logins to run as (all five roles)
#   FIELDPROOF_ST_OUT       where each role's whole output and JUnit report go
#                           (target/schemathesis)
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${FIELDPROOF_BIN:-target/debug/fieldproof}
EXAMPLES=${FIELDPROOF_ST_EXAMPLES:-25}
ROLES=${FIELDPROOF_ST_ROLES:-andi maya bambang hana admin}
PYTHON=${FIELDPROOF_PYTHON:-python3}
OUT=${FIELDPROOF_ST_OUT:-target/schemathesis}
mkdir -p "$OUT"
work=$(mktemp -d)
port=$("$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > "$work/fieldproof.toml" <<TOML
[server]
listen = "127.0.0.1:$port"
# Schemathesis sends bad tokens on purpose (ignored_auth); the throttle has its own test.
free_bearer_failures = 1000000
[database]
url = "sqlite://$work/fieldproof.db"
[storage]
url = "file://$work/objects"
TOML
"$BIN" --config "$work/fieldproof.toml" migrate >/dev/null
"$BIN" --config "$work/fieldproof.toml" demo >/dev/null
RUST_LOG=warn "$BIN" --config "$work/fieldproof.toml" serve > "$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
base="http://127.0.0.1:$port"
for _ in $(seq 1 100); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.2; done
curl -sSf "$base/healthz" >/dev/null

export PYTHONPATH="$PWD/tests/schemathesis" SCHEMATHESIS_HOOKS=hooks FP_BASE="$base"
# Every role's two sessions are signed in before any run: the fuzzed sign-ins of one role's run
# count against the address throttle (20 failures in 15 minutes), which would refuse the next
# role's sign-in with 429.
declare -A sessions
for login in $ROLES; do
  for n in 1 2; do
    sessions[$login.$n]=$(FP_LOGIN=$login FP_PASSWORD="demo-$login-pass" FP_SESSION=- FP_CSRF=- \
      "$PYTHON" -c 'import hooks; print(*hooks.sign_in())')
  done
done
failed=0
for login in $ROLES; do
  export FP_LOGIN=$login FP_PASSWORD="demo-$login-pass"
  read -r FP_SESSION FP_CSRF <<< "${sessions[$login.1]}"
  read -r FP_SPARE_SESSION FP_SPARE_CSRF <<< "${sessions[$login.2]}"
  export FP_SESSION FP_CSRF FP_SPARE_SESSION FP_SPARE_CSRF
  echo "== schemathesis as $login"
  if "$PYTHON" -c "import sys; from schemathesis.cli import schemathesis; sys.exit(schemathesis())" \
      --config-file tests/schemathesis/schemathesis.toml run openapi.yaml --url "$base" \
      -H "Authorization: Bearer fpdemo_$login" --max-examples "$EXAMPLES" --seed 19 \
      --phases examples,coverage,fuzzing,stateful --no-color --report junit --report-dir "$OUT/$login" > "$OUT/$login.log" 2>&1; then
    sed -n '/= SUMMARY =/,$p' "$OUT/$login.log"
  else
    failed=1
    sed -n '/= FAILURES =/,$p' "$OUT/$login.log"
  fi
  kill -0 $server 2>/dev/null || { echo "the server died"; cat "$work/server.log"; exit 1; }
done
if grep -q "panicked" "$work/server.log"; then
  echo "the server panicked:"; grep -B2 -A5 panicked "$work/server.log"; exit 1
fi
exit $failed
