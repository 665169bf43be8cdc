#!/usr/bin/env bash
# Interoperability runs with ACME (ankraft/ACME-oneM2M-CSE), every CSE-to-CSE hop mutual TLS. Not run by CI; see
# docs/interop.md.
#   run A: ACME as IN-CSE /id-in, a Warden MN-CSE /id-mn registered to it (scripts/interop/checksWardenMn.js)
#   run B: Warden as IN-CSE /id-in, an ACME MN-CSE /id-mn registered to it (scripts/interop/checksWardenIn.js)
#
# Needs (env):
#   ACME_GIT     a git dir of ankraft/ACME-oneM2M-CSE (acmecse/ is extracted from HEAD at every run)
#   TINYDB_GIT   a git dir of msiemens/tinydb 4.x (ACME needs the 4.x API; Debian ships 3.x)
#   CONFORMANCE_DIR  the conformance harness (default ../shared/conformance): its acme-suite/shims provide the
#                import-only stand-ins (coapthon, websockets.sync, paho.mqtt.enums, plotext)
#   PYTHON       default /usr/bin/python3 (Debian's, with python3-flask, waitress, rich, cbor2, isodate, paho-mqtt,
#                websockets, dotenv, kazoo, cachetools, shapely, rdflib, requests)
#   STUNNEL      default stunnel4 (the TLS sidecar in front of ACME, which serves no mutual TLS itself)
#   INTEROP_PORT first of four loopback ports (default 18610): ACME, its TLS sidecar, Warden, the AE's receiver
#   RUNS         default "a b"
#   KEEP=1       keep the work directory (logs, certificates) afterwards; SKIP_BUILD=1 uses the existing dist/
# Prints one PASS/FAIL line per check and "N passed, N failed" per run. Exit status: 0 all passed, 1 some failed,
# 2 set-up.
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"

fail_setup() {
  echo "interop: $*" >&2
  exit 2
}
[ -n "${ACME_GIT:-}" ] || fail_setup "set ACME_GIT to a git directory of ankraft/ACME-oneM2M-CSE (see docs/interop.md)"
[ -n "${TINYDB_GIT:-}" ] || fail_setup "set TINYDB_GIT to a git directory of msiemens/tinydb 4.x (see docs/interop.md)"
git -C "$ACME_GIT" cat-file -e HEAD:acmecse/__main__.py 2>/dev/null || fail_setup "ACME_GIT=$ACME_GIT holds no acmecse/ at HEAD"
git -C "$TINYDB_GIT" cat-file -e HEAD:tinydb/__init__.py 2>/dev/null || fail_setup "TINYDB_GIT=$TINYDB_GIT holds no tinydb/ at HEAD"
shims="${CONFORMANCE_DIR:-$root/../shared/conformance}/acme-suite/shims"
[ -f "$shims/preload.py" ] && [ -d "$shims/coapthon" ] || fail_setup "no stand-ins at $shims (set CONFORMANCE_DIR)"
python="${PYTHON:-/usr/bin/python3}"
"$python" -c 'import flask, waitress, rich, cbor2, isodate, requests, shapely, rdflib, cachetools, dotenv' 2>/dev/null \
  || fail_setup "$python lacks ACME's packages (see docs/interop.md)"
stunnel="${STUNNEL:-stunnel4}"
command -v "$stunnel" >/dev/null || fail_setup "no $stunnel (set STUNNEL)"
runs="${RUNS:-a b}"
for run in $runs; do
  case $run in a | b) ;; *) fail_setup "RUNS: unknown run '$run' (a or b)" ;; esac
done

base="${INTEROP_PORT:-18610}"
acme_port=$base acme_tls_port=$((base + 1)) warden_port=$((base + 2)) rx_port=$((base + 3))
for port in $acme_port $acme_tls_port $warden_port $rx_port; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then fail_setup "port $port is taken; set INTEROP_PORT"; fi
done

if [ -z "${SKIP_BUILD:-}" ]; then npx tsc -p tsconfig.json || fail_setup "build failed"; fi

work="$(mktemp -d "${TMPDIR:-/tmp}/warden-interop.XXXXXX")"
pids=()
stop_all() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
  wait 2>/dev/null
  pids=()
}
cleanup() {
  stop_all
  if [ -n "${KEEP:-}" ]; then echo "interop: work directory kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

mkdir -p "$work/acme" "$work/pylib" "$work/pki"
git -C "$ACME_GIT" archive HEAD acmecse | tar -x -C "$work/acme" || fail_setup "cannot extract ACME"
git -C "$TINYDB_GIT" archive HEAD tinydb | tar -x -C "$work/pylib" || fail_setup "cannot extract TinyDB"

# One CA for the tree; each CSE certificate names its CSE-ID (onem2m://acme.example.com/<id>) and 127.0.0.1.
node "$root/bin/warden.js" pki ca --out "$work/pki" >/dev/null || fail_setup "pki ca failed"
for id in id-in id-mn; do
  node "$root/bin/warden.js" pki cse --ca "$work/pki" --out "$work/pki" --cse-id $id --sp acme.example.com --ip 127.0.0.1 >/dev/null \
    || fail_setup "pki cse $id failed"
done

# ACME's configuration: its defaults but for the CSE's identity and type, SP acme.example.com, loopback only,
# in-memory storage, its point of access the TLS sidecar, no MQTT/CoAP/WebSocket, no text UI, file logs.
# $1 IN|MN, $2 CSE-ID, $3 CSEBase name, $4 run directory; further ini lines on stdin.
write_acme_ini() {
  {
    cat <<EOF
[basic.config]
cseType=$1
cseID=$2
cseName=$3
adminID=CAdmin
serviceProviderID=//acme.example.com
networkInterface=127.0.0.1
cseHost=127.0.0.1
httpPort=$acme_port
logLevel=debug
databaseType=memory
consoleTheme=dark
[textui]
startWithTUI=false
[http]
address=https://127.0.0.1:$acme_tls_port
[mqtt]
enable=false
[coap]
enable=false
[websocket]
enable=false
[logging]
enableFileLogging=true
enableScreenLogging=false
path=$4/acme-logs
stackTraceOnError=true
EOF
    cat
  } > "$4/acme.ini"
}

# The sidecar in front of ACME: TLS with ACME's CSE certificate, a client certificate from the CA required, plain
# HTTP to ACME's loopback port. Then ACME itself, presenting the same certificate on its way out.
# $1 ACME's CSE-ID, $2 run directory.
start_acme() {
  cat > "$2/stunnel.conf" <<EOF
foreground = yes
pid =
output = $2/stunnel.log
[acme]
accept = 127.0.0.1:$acme_tls_port
connect = 127.0.0.1:$acme_port
cert = $work/pki/$1.pem
key = $work/pki/$1.key
CAfile = $work/pki/ca.pem
verifyChain = yes
requireCert = yes
EOF
  "$stunnel" "$2/stunnel.conf" > "$2/stunnel.out" 2>&1 &
  pids+=($!)
  (cd "$2" && INTEROP_SHIMS="$shims" INTEROP_PYLIB="$work/pylib" INTEROP_ACME="$work/acme" \
    INTEROP_CLIENT_CERT="$work/pki/$1.pem" INTEROP_CLIENT_KEY="$work/pki/$1.key" INTEROP_CA="$work/pki/ca.pem" \
    exec "$python" "$root/scripts/interop/acme_launch.py" --config acme.ini --base-directory "$2" --headless) > "$2/acme.out" 2>&1 &
  pids+=($!)
  # Not a request before ACME says it started: Flask refuses to add routes once it has served one, and ACME then
  # gives up its start-up.
  for _ in $(seq 1 60); do
    grep -qs 'CSE started' "$2"/acme-logs/*.log && break
    sleep 1
  done
  curl -s -o /dev/null --max-time 2 --cacert "$work/pki/ca.pem" --cert "$work/pki/id-in.pem" --key "$work/pki/id-in.key" \
    "https://127.0.0.1:$acme_tls_port/" \
    || { KEEP=1; fail_setup "ACME did not answer through its sidecar (logs: $2/acme-logs, $2/acme.out, $2/stunnel.log)"; }
}

# A Warden CSE over HTTPS with its CSE certificate; AEs need none (security.authentication=cse), CSEs must.
# $1 CSE type, $2 CSE-ID, $3 CSEBase name, $4 run directory; further flags after them.
start_warden() {
  local type=$1 id=$2 rn=$3 dir=$4
  shift 4
  node "$root/bin/warden.js" serve --cse.type="$type" --cse.id="$id" --cse.rn="$rn" --cse.spid=acme.example.com \
    --http.port=$warden_port --ops.port=0 --http.tls=true --tls.cert="$work/pki/$id.pem" --tls.key="$work/pki/$id.key" \
    --tls.ca="$work/pki/ca.pem" --tls.clientAuth=optional --security.authentication=cse --console.enabled=off --storage.path="$dir/warden.sqlite" \
    "$@" > "$dir/warden.log" 2>&1 &
  pids+=($!)
}

# $1 file, $2 fixed string, $3 what it means: waits up to 60 s for it.
await_log() {
  for _ in $(seq 1 60); do
    grep -qF "$2" "$1" 2>/dev/null && return 0
    sleep 1
  done
  echo "interop: $3 did not happen (the checks will say what is missing)"
}

failed=0
for run in $runs; do
  dir="$work/run-$run"
  mkdir -p "$dir"
  if [ "$run" = a ]; then
    echo "== run A: ACME IN-CSE /id-in, Warden MN-CSE /id-mn registered to it"
    write_acme_ini IN id-in cse-in "$dir" <<EOF
[cse.registration]
allowedCSROriginators=/id-mn
EOF
    start_acme id-in "$dir"
    # registrar.checkInterval=5: one check waits for Warden to notice that ACME dropped its registration.
    start_warden MN id-mn cse-mn "$dir" --registrar.url=https://127.0.0.1:$acme_tls_port \
      --registrar.cseId=id-in --registrar.rn=cse-in --registrar.checkInterval=5
    await_log "$dir/warden.log" 'registered with /id-in' "Warden's registration with ACME"
    # Re-registration after a kill -9 [TS-0001 §10.2.2.8]: the restarted Warden finds its <remoteCSE> on ACME and
    # updates it (same ct, later lt) instead of creating another.
    csr_times() { curl -s "http://127.0.0.1:$acme_port/cse-in/id-mn" -H 'X-M2M-Origin: CAdmin' -H 'X-M2M-RI: csr' -H 'X-M2M-RVI: 3' \
      | node -e 'let t="";process.stdin.on("data",(c)=>t+=c).on("end",()=>{try{const c=JSON.parse(t)["m2m:csr"];console.log(c.ct+" "+c.lt)}catch{console.log("none none")}})'; }
    read -r ct_before lt_before <<< "$(csr_times)"
    sleep 1 # ACME's timestamps have sub-second precision, but a later lt must be visibly later
    kill -9 "${pids[-1]}"
    wait "${pids[-1]}" 2>/dev/null
    unset 'pids[-1]'
    start_warden MN id-mn cse-mn "$dir" --registrar.url=https://127.0.0.1:$acme_tls_port \
      --registrar.cseId=id-in --registrar.rn=cse-in --registrar.checkInterval=5
    await_log "$dir/warden.log" 'registered with /id-in' "Warden's registration after a kill -9"
    read -r ct_after lt_after <<< "$(csr_times)"
    if [ "$ct_before" != none ] && [ "$ct_after" = "$ct_before" ] && [ "$lt_after" \> "$lt_before" ]; then
      echo "PASS re-registration after kill -9: Warden's <remoteCSE> on ACME found and updated (ct $ct_after, lt $lt_before -> $lt_after)"
    else
      echo "FAIL re-registration after kill -9: ct $ct_before -> $ct_after, lt $lt_before -> $lt_after"
      failed=1
    fi
    ACME_URL="http://127.0.0.1:$acme_port" ACME_TLS_URL="https://127.0.0.1:$acme_tls_port" MN_URL="https://127.0.0.1:$warden_port" \
      PKI="$work/pki" RX_PORT=$rx_port MN_LOG="$dir/warden.log" node "$root/scripts/interop/checksWardenMn.js" || failed=1
  else
    echo "== run B: Warden IN-CSE /id-in, ACME MN-CSE /id-mn registered to it"
    start_warden IN id-in cse-in "$dir"
    await_log "$dir/warden.log" 'listening on' "Warden's start"
    # excludeCSRAttributes=spi: ACME's <remoteCSE> carries an spi that TS-0001 does not define (docs/interop.md).
    write_acme_ini MN id-mn cse-mn "$dir" <<EOF
[cse.registrar]
address=https://127.0.0.1:$warden_port
cseID=/id-in
resourceName=cse-in
excludeCSRAttributes=spi
EOF
    start_acme id-mn "$dir"
    await_log "$dir/warden.log" '"originator":"/id-mn","authenticated":true,"op":"CREATE","to":"/id-in/cse-in","rsc":2001' "ACME's registration with Warden"
    IN_URL="https://127.0.0.1:$warden_port" ACME_URL="http://127.0.0.1:$acme_port" ACME_TLS_URL="https://127.0.0.1:$acme_tls_port" \
      PKI="$work/pki" RX_PORT=$rx_port IN_LOG="$dir/warden.log" ACME_LOG_DIR="$dir/acme-logs" node "$root/scripts/interop/checksWardenIn.js" || failed=1
  fi
  stop_all
done
if [ $failed -ne 0 ]; then
  KEEP=1
  echo "interop: some checks failed; logs in $work/run-*/ (warden.log, acme-logs/, stunnel.log)"
  exit 1
fi
exit 0
