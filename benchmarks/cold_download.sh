#!/usr/bin/env bash
# A download right after an upload, and again: a fresh data directory, one 1 GiB image uploaded
# with `granary bench upload`, then three curl downloads, each with the server's CPU seconds per
# GB (from /proc). Usage: benchmarks/cold_download.sh [SEED] [VAR=value ...] (settings for the
# server, e.g. GRANARY_STORE_COLD_READS=direct). BIN picks the binary (default: the release build).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${BIN:-$PWD/.build/release/granary}"
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
PORT="${PORT:-$(free_port)}"
SEED="${1:-1}"
shift || true
WORK="$(mktemp -d /tmp/granary-cold.XXXXXX)"
env "$@" "$BIN" serve --data "$WORK/data" --port "$PORT" --artifacts-port "$(free_port)" --log-level warning > "$WORK/log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2> /dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$PORT/versions" > /dev/null && break; sleep 0.1; done
"$BIN" bench upload --url "http://127.0.0.1:$PORT" --concurrency 1 --size $((1 << 30)) --count 1 --seed "$SEED" \
    --keep --json > /dev/null 2>&1
ID="$(curl -fs "http://127.0.0.1:$PORT/v2/images?limit=1" | python3 -c 'import json, sys; print(json.load(sys.stdin)["images"][0]["id"])')"
for i in 1 2 3; do
    before="$(awk '{print $14 + $15}' /proc/$SERVER/stat)"
    speed="$(curl -fs -o /dev/null -w '%{speed_download}' "http://127.0.0.1:$PORT/v2/images/$ID/file")"
    after="$(awk '{print $14 + $15}' /proc/$SERVER/stat)"
    python3 -c "print('read $i: %.0f MB/s, server %.3f CPU-s per GB' % ($speed / 1e6, ($after - $before) / 100 / 1.073741824))"
done
