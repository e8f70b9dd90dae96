#!/usr/bin/env bash
# benchmarks/object_stores.sh — Granary with its packs in OpenStack Swift, beside real Glance 33
# storing into the same Swift through glance_store, and beside Granary's local store; same
# machine, same run, same `granary bench` loads, one server at a time.
#
# Peers, all from the repository's tools: Keystone (tools/keystone-peer; glance_store reaches
# Swift through Keystone v3 only), the Swift all-in-one (tools/swift-peer: one proxy per auth
# mode in front of the same storage servers) and Glance (tools/glance-peer, GLANCE_STORE=swift,
# sqlite: one upload at a time). Granary talks to the same Swift with tempauth.
#
# Rows: upload one at a time (3 × 1 GiB), eight at a time (16 × 256 MiB, Granary only: Glance
# needs PostgreSQL for concurrent writes), a re-upload of identical data (new objects counted in
# Granary's containers), a cold download (page cache dropped, node cache empty: the server is
# restarted) and a warm one, for each server. CPU-seconds are the server's plus the Swift
# processes' (proxies, object, container and account servers), from /proc.
#
# Usage: benchmarks/object_stores.sh [--quick]   (root: drop_caches). Prints JSON lines and
# writes benchmarks/results/object-stores.json.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
export PEERS_HOME="${PEERS_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/granary-peers}"
G="$ROOT/.build/release/granary"
OUT="$ROOT/benchmarks/results/object-stores.json"
WORK="$(mktemp -d /tmp/granary-objects.XXXXXX)"
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
HZ=$(getconf CLK_TCK)
if [ "${1:-}" = "--quick" ]; then
    UP1=(--concurrency 1 --size $((64 << 20)) --count 2)
    UP8=(--concurrency 8 --size $((16 << 20)) --count 16)
else
    UP1=(--concurrency 1 --size $((1 << 30)) --count 3)
    UP8=(--concurrency 8 --size $((256 << 20)) --count 16)
fi
GLANCE_PORT=$(free_port) GRANARY_PORT=$(free_port) KEYSTONE_PORT=$(free_port)
export GLANCE_DATA="$PEERS_HOME/glance-objects" GLANCE_STORE=swift
SERVER_PID="" KEYSTONE_PID=""
cleanup() {
    [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2> /dev/null || true
    tools/glance-peer stop "$GLANCE_PORT" > /dev/null 2>&1 || true
    [ -n "$KEYSTONE_PID" ] && kill -9 "$KEYSTONE_PID" 2> /dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

echo "== peers" >&2
[ -x "$G" ] || swift build -c release --product granary >&2
tools/keystone-peer setup > /dev/null
tools/swift-peer start
KEYSTONE_PID=$(tools/keystone-peer start "$WORK/keystone" "$KEYSTONE_PORT")
tools/swift-peer keystone "http://127.0.0.1:$KEYSTONE_PORT/v3"
eval "$(tools/swift-peer env)"
SWIFT_PIDS="$(cat "$PEERS_HOME"/swift-peer/run/*.pid | tr '\n' ' ')"
export SWIFT_KEYSTONE_AUTH_URL="http://127.0.0.1:$KEYSTONE_PORT/v3" SWIFT_KEYSTONE_USER=admin:admin SWIFT_KEYSTONE_KEY=secret
tools/glance-peer wipe > /dev/null 2>&1 || true
tools/glance-peer setup > /dev/null

ticks() {
    local total=0 pid
    for pid in "$@" $(for p in "$@"; do pgrep -P "$p" || true; done); do
        [ -r "/proc/$pid/stat" ] && total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat")))
    done
    echo "$total"
}
# Objects in Granary's 16 containers (through the Swift API, tempauth): a row's difference is
# the packs it sent.
CONTAINER="granary-bench-$(date +%s)"
objects() {
    local auth token url n total=0
    auth="$(curl -fsi -H 'X-Auth-User: test:tester' -H 'X-Auth-Key: testing' "$SWIFT_PEER_AUTH_URL")"
    token="$(awk -F': ' 'tolower($1) == "x-auth-token" {print $2}' <<< "$auth" | tr -d '\r')"
    url="$(awk -F': ' 'tolower($1) == "x-storage-url" {print $2}' <<< "$auth" | tr -d '\r')"
    for n in $(seq -w 0 15); do
        total=$((total + $(curl -fsI -H "X-Auth-Token: $token" "$url/${CONTAINER}_$n" 2> /dev/null \
            | awk -F': ' 'tolower($1) == "x-container-object-count" {print $2 + 0}' || true) + 0))
    done
    echo "$total"
}

# row NAME PIDS COMMAND…: runs COMMAND, prints one JSON line with its output (JSON or curl's
# "bytes seconds"), the server's and Swift's CPU-seconds and the object PUTs it caused.
row() {
    local name="$1" pids="$2" server swift puts_before out
    shift 2
    server=$(ticks $pids) swift=$(ticks $SWIFT_PIDS) puts_before=$(objects)
    out="$("$@")"
    python3 - "$name" "$out" "$(($(ticks $pids) - server))" "$(($(ticks $SWIFT_PIDS) - swift))" "$(($(objects) - puts_before))" "$HZ" <<'PY' | tee -a "$WORK/rows.jsonl"
import json, sys
name, out, server, swift, puts, hz = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
try:
    result = json.loads(out)
    size = result.get("bytes") or result.get("total_bytes") or 0
except ValueError:
    size, seconds = out.split()
    size, seconds = int(size), float(seconds)
    result = {"bytes": size, "seconds": seconds, "mbps": round(size / seconds / 1e6, 1)}
result.update(row=name, server_cpu_seconds=server / hz, swift_cpu_seconds=swift / hz, new_objects=puts)
if size:
    result["cpu_seconds_per_gb"] = round((server + swift) / hz / (size / 1e9), 2)
print(json.dumps(result))
PY
}

upload() { "$G" bench upload --url "$1" --json "${@:2}"; }
# download URL: every active image with curl, "bytes seconds" in all.
download() {
    local url="$1" id
    for id in $(curl -fs "$url/v2/images?limit=1000" | python3 -c 'import json,sys; print(" ".join(i["id"] for i in json.load(sys.stdin)["images"] if i["status"] == "active"))'); do
        curl -fs -o /dev/null -w "%{size_download} %{time_total}\n" "$url/v2/images/$id/file"
    done | awk '{b += $1; s += $2} END {printf "%d %f\n", b, s}'
}
drop_caches() { sync; echo 3 > /proc/sys/vm/drop_caches; }

start_granary() {
    "$G" serve --data "$WORK/granary" --port "$GRANARY_PORT" --artifacts-port "$(free_port)" --log-level warning "$@" \
        >> "$WORK/granary.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 100); do curl -fs -o /dev/null "http://127.0.0.1:$GRANARY_PORT/versions" && return; sleep 0.1; done
    cat "$WORK/granary.log" >&2
    exit 1
}
stop_granary() { kill "$SERVER_PID"; wait "$SERVER_PID" 2> /dev/null || true; SERVER_PID=""; }
GURL="http://127.0.0.1:$GRANARY_PORT"

# Glance on Swift.
tools/glance-peer start "$GLANCE_PORT" > /dev/null
GLANCE_PIDS="$(cat "$GLANCE_DATA/uwsgi-$GLANCE_PORT.pid")"
LURL="http://127.0.0.1:$GLANCE_PORT"
row glance-swift-upload1 "$GLANCE_PIDS" upload "$LURL" "${UP1[@]}" --keep
drop_caches
row glance-swift-download-cold "$GLANCE_PIDS" download "$LURL"
row glance-swift-download-warm "$GLANCE_PIDS" download "$LURL"
tools/glance-peer stop "$GLANCE_PORT" > /dev/null

# Granary on Swift.
python3 - "$WORK/swift.json" "$SWIFT_PEER_AUTH_URL" "$CONTAINER" <<'PY'
import json, sys
json.dump({"stores": {"swift": {"url": f"swift://{sys.argv[3]}", "auth_url": sys.argv[2], "user": "test:tester", "key": "testing"}},
           "default_store": "swift"}, open(sys.argv[1], "w"))
PY
start_granary --config "$WORK/swift.json"
row granary-swift-upload1 "$SERVER_PID" upload "$GURL" "${UP1[@]}" --keep
row granary-swift-reupload1 "$SERVER_PID" upload "$GURL" "${UP1[@]}" --keep
row granary-swift-upload8 "$SERVER_PID" upload "$GURL" "${UP8[@]}"
row granary-swift-download-written-through "$SERVER_PID" download "$GURL"
stop_granary
drop_caches
start_granary --config "$WORK/swift.json"
row granary-swift-download-cold "$SERVER_PID" download "$GURL"
row granary-swift-download-warm "$SERVER_PID" download "$GURL"
stop_granary
GRANARY_STORE_VERIFY_READS=false start_granary --config "$WORK/swift.json"
download "$GURL" > /dev/null
row granary-swift-download-cache-zero-copy "$SERVER_PID" download "$GURL"
stop_granary
rm -rf "$WORK/granary"

# Granary, local packs.
start_granary
row granary-local-upload1 "$SERVER_PID" upload "$GURL" "${UP1[@]}" --keep
row granary-local-upload8 "$SERVER_PID" upload "$GURL" "${UP8[@]}"
download "$GURL" > /dev/null
row granary-local-download-warm "$SERVER_PID" download "$GURL"
stop_granary
drop_caches
start_granary
row granary-local-download-cold "$SERVER_PID" download "$GURL"
stop_granary

mkdir -p "$(dirname "$OUT")"
python3 - "$WORK/rows.jsonl" "$OUT" <<'PY'
import json, sys, time
rows = [json.loads(line) for line in open(sys.argv[1])]
json.dump({"date": time.strftime("%Y-%m-%d"), "rows": rows}, open(sys.argv[2], "w"), indent=1)
PY
