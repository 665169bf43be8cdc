#!/usr/bin/env bash
# Interoperability run: ACME (ankraft/ACME-oneM2M-CSE) as IN-CSE /id-in, a Warden MN-CSE /id-mn registered to it,
# every CSE-to-CSE hop mutual TLS. Not run by CI; see docs/interop.md.
#
# Needs (env):
#   ACME_GIT     a git dir of ankraft/ACME-oneM2M-CSE (acmecse/ is extracted from HEAD at every run)
#   TINYDB_GIT   a git dir of msiemens/tinydb 4.x (ACME needs the 4.x API; Debian ships 3.x)
#   CONFORMANCE_DIR  the conformance harness (default ../shared/conformance): its acme-suite/shims provide the
#                import-only stand-ins (coapthon, websockets.sync, paho.mqtt.enums, plotext)
#   PYTHON       default /usr/bin/python3 (Debian's, with python3-flask, waitress, rich, cbor2, isodate, paho-mqtt,
#                websockets, dotenv, kazoo, cachetools, shapely, rdflib, requests)
#   STUNNEL      default stunnel4 (the TLS sidecar in front of ACME, which serves no mutual TLS itself)
#   INTEROP_PORT first of five loopback ports (default 18610): ACME, its TLS sidecar, Warden, the AE's receiver
#   KEEP=1       keep the work directory (logs, certificates) afterwards; SKIP_BUILD=1 uses the existing dist/
# Prints one PASS/FAIL line per check and "N passed, N failed". Exit status: 0 all passed, 1 some failed, 2 set-up.
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

base="${INTEROP_PORT:-18610}"
acme_port=$base acme_tls_port=$((base + 1)) mn_port=$((base + 2)) rx_port=$((base + 3))
for port in $acme_port $acme_tls_port $mn_port $rx_port; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then fail_setup "port $port is taken; set INTEROP_PORT"; fi
done

if [ -z "${SKIP_BUILD:-}" ]; then npx tsc -p tsconfig.json || fail_setup "build failed"; fi

work="$(mktemp -d "${TMPDIR:-/tmp}/warden-interop.XXXXXX")"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
  wait 2>/dev/null
  if [ -n "${KEEP:-}" ]; then echo "interop: work directory kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

mkdir -p "$work/acme" "$work/pylib" "$work/pki"
git -C "$ACME_GIT" archive HEAD acmecse | tar -x -C "$work/acme" || fail_setup "cannot extract ACME"
git -C "$TINYDB_GIT" archive HEAD tinydb | tar -x -C "$work/pylib" || fail_setup "cannot extract TinyDB"

# One CA for the tree; each CSE certificate names its CSE-ID (onem2m://acme.example.com/<id>) and 127.0.0.1.
warden() { node "$root/bin/warden.js" "$@"; }
warden pki ca --out "$work/pki" >/dev/null || fail_setup "pki ca failed"
for id in id-in id-mn; do
  warden pki cse --ca "$work/pki" --out "$work/pki" --cse-id $id --sp acme.example.com --ip 127.0.0.1 >/dev/null || fail_setup "pki cse $id failed"
done

# ACME keeps its defaults but for: IN-CSE id-in/cse-in in SP acme.example.com, loopback only, in-memory storage,
# its point of access the TLS sidecar, only /id-mn may register, no MQTT/CoAP/WebSocket, no text UI, file logs.
cat > "$work/acme.ini" <<EOF
[basic.config]
cseType=IN
cseID=id-in
cseName=cse-in
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
[cse.registration]
allowedCSROriginators=/id-mn
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
path=$work/acme-logs
stackTraceOnError=true
EOF

# The sidecar: TLS with ACME's CSE certificate, a client certificate from the CA required, plain HTTP to ACME.
cat > "$work/stunnel.conf" <<EOF
foreground = yes
pid =
output = $work/stunnel.log
[acme-in]
accept = 127.0.0.1:$acme_tls_port
connect = 127.0.0.1:$acme_port
cert = $work/pki/id-in.pem
key = $work/pki/id-in.key
CAfile = $work/pki/ca.pem
verifyChain = yes
requireCert = yes
EOF
"$stunnel" "$work/stunnel.conf" > "$work/stunnel.out" 2>&1 &
pids+=($!)

(cd "$work" && INTEROP_SHIMS="$shims" INTEROP_PYLIB="$work/pylib" INTEROP_ACME="$work/acme" \
  INTEROP_CLIENT_CERT="$work/pki/id-in.pem" INTEROP_CLIENT_KEY="$work/pki/id-in.key" INTEROP_CA="$work/pki/ca.pem" \
  exec "$python" "$root/scripts/interop/acme_launch.py" --config acme.ini --base-directory "$work" --headless) > "$work/acme.out" 2>&1 &
pids+=($!)
for _ in $(seq 1 60); do
  if curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$acme_port/cse-in" -H 'X-M2M-Origin: CAdmin' -H 'X-M2M-RI: up' -H 'X-M2M-RVI: 3'; then break; fi
  sleep 1
done
curl -s -o /dev/null --max-time 2 --cacert "$work/pki/ca.pem" --cert "$work/pki/id-mn.pem" --key "$work/pki/id-mn.key" \
  "https://127.0.0.1:$acme_tls_port/cse-in" -H 'X-M2M-Origin: CAdmin' -H 'X-M2M-RI: up' -H 'X-M2M-RVI: 3' \
  || { KEEP=1; fail_setup "ACME did not answer through its sidecar (logs: $work/acme-logs, $work/acme.out, $work/stunnel.log)"; }

# The Warden MN-CSE: HTTPS with its CSE certificate; AEs need none (security.authentication=cse), CSEs must.
node "$root/bin/warden.js" serve --cse.type=MN --cse.id=id-mn --cse.rn=cse-mn --cse.spid=acme.example.com \
  --http.port=$mn_port --ops.port=0 --http.tls=true --tls.cert="$work/pki/id-mn.pem" --tls.key="$work/pki/id-mn.key" \
  --tls.ca="$work/pki/ca.pem" --tls.clientAuth=optional --security.authentication=cse --storage.path="$work/mn.sqlite" \
  --registrar.url=https://127.0.0.1:$acme_tls_port --registrar.cseId=id-in --registrar.rn=cse-in --registrar.checkInterval=5 > "$work/mn.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 60); do
  grep -q 'registered with /id-in' "$work/mn.log" && break
  sleep 1
done
grep -q 'registered with /id-in' "$work/mn.log" || echo "interop: Warden did not report its registration (the checks will say what is missing)"

ACME_URL="http://127.0.0.1:$acme_port" ACME_TLS_URL="https://127.0.0.1:$acme_tls_port" MN_URL="https://127.0.0.1:$mn_port" \
  PKI="$work/pki" RX_PORT=$rx_port MN_LOG="$work/mn.log" node "$root/scripts/interop/checks.js"
failed=$?
if [ $failed -ne 0 ]; then
  KEEP=1
  echo "interop: logs in $work (mn.log, acme-logs/, stunnel.log)"
  exit 1
fi
exit 0
