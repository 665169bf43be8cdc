#!/usr/bin/env bash
# npm run conformance — the community (ACME) black-box suite against a freshly built Warden.
#
# Needs ACME_GIT (a git dir of ankraft/ACME-oneM2M-CSE; the suite is extracted from it at every run) and the
# harness in ../shared/conformance (CONFORMANCE_DIR to point elsewhere). Without ACME_GIT it says so and exits 0:
# the suite is a working tool, not part of CI (npm test covers every fix on its own).
#
# Env: CONFORMANCE_PORT (default 18400) and NOTIFICATION_PORT (default 9990) for runs side by side;
#      MODULES="testACP testSUB" to run some modules; WARDEN_FLAGS="--storage.url=postgres://127.0.0.1/conf"
#      for another configuration; LOG_DIR (default a new temp dir).
# Prints the suite's table and its "N passed, N failed" line, then the per-module Markdown table of
# docs/conformance.md. Exit status: the suite's (0 all passed, 1 some failed, 2 harness error).
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

if [ -z "${ACME_GIT:-}" ]; then
  echo "conformance: skipped — set ACME_GIT to a git directory of ankraft/ACME-oneM2M-CSE (see docs/conformance.md)"
  exit 0
fi
harness="${CONFORMANCE_DIR:-$root/../shared/conformance}"
if [ ! -x "$harness/acme-suite/run.sh" ] && [ ! -f "$harness/acme-suite/run.sh" ]; then
  echo "conformance: no harness at $harness (set CONFORMANCE_DIR)" >&2
  exit 2
fi
if ! /usr/bin/python3 -c 'import requests, rich, cbor2, isodate' 2>/dev/null; then
  echo "conformance: the suite's Python packages are missing; see $harness/README.md (Set-up)" >&2
  exit 2
fi

npm run build --silent || exit 2

port="${CONFORMANCE_PORT:-18400}"
if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
  echo "conformance: port $port is taken (another Warden?); set CONFORMANCE_PORT" >&2
  exit 2
fi
state="$(mktemp -d "${TMPDIR:-/tmp}/warden-conformance-state.XXXXXX")"
export LOG_DIR="${LOG_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/warden-conformance-logs.XXXXXX")}"
# shellcheck disable=SC2086 # WARDEN_FLAGS is a list of flags on purpose
# --ops.port=0: runs side by side must not meet on the default operations port (9464).
export BEFORE_MODULE="bash $harness/fresh-warden.sh $port $state --ops.port=0 ${WARDEN_FLAGS:-}"
export CSE_URL="http://127.0.0.1:$port" CSE_ID=/id-in CSE_RN=cse-in ADMIN=CAdmin SPID=acme.example.com
export UPPER_TESTER=0

stop_warden() {
  if [ -f "$state/fresh-$port.pid" ]; then kill -- -"$(cat "$state/fresh-$port.pid")" 2>/dev/null; fi
  rm -rf "$state"
}
trap stop_warden EXIT

bash "$harness/acme-suite/run.sh"
status=$?

if [ -f "$LOG_DIR/summary.tsv" ]; then
  echo
  echo "| module | passed | failed | skipped |"
  echo "|---|---:|---:|---:|"
  awk -F'\t' 'NR > 1 && $1 != "" { printf "| %s | %s | %s | %s |\n", $1, $3, $4, $5 }' "$LOG_DIR/summary.tsv"
  echo
  echo "logs: $LOG_DIR (failures.tsv: one line per failed test with the CSE's m2m:dbg)"
fi
exit $status
