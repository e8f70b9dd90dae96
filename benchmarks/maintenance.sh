#!/usr/bin/env bash
# Maintenance benchmarks on a release build: GC throughput (GB of packs compacted per second),
# fsck and scrub speed, and ingest throughput with and without a GC run beside it.
#
#   benchmarks/maintenance.sh [SIZE_MB]      (default 1024; needs ~6x SIZE_MB of free disk)
#
# The data: F, SIZE_MB of random bytes, and G, a copy of F with every other MiB replaced; after
# F is deleted, F's packs are about half dead and half shared with G, so compaction copies half.
set -euo pipefail
cd "$(dirname "$0")/.."
size_mb=${1:-1024}
bin=.build/release/granary
[ -x "$bin" ] || swift build -c release --product granary
work=$(mktemp -d "${TMPDIR:-/tmp}/granary-maint-XXXXXX")
trap 'rm -rf "$work"' EXIT

python3 - "$work" "$size_mb" <<'PY'
import os, sys
work, mb = sys.argv[1], int(sys.argv[2])
with open(f"{work}/F", "wb") as f, open(f"{work}/G", "wb") as g:
    for i in range(mb):
        block = os.urandom(1 << 20)
        f.write(block)
        g.write(os.urandom(1 << 20) if i % 2 else block)
PY

setup() {  # a store holding G, with F put and deleted
    rm -rf "$1"
    "$bin" store put --digests none --data "$1" "$work/F" "$work/G" > "$work/put.json"
    "$bin" store rm --data "$1" "$(head -1 "$work/put.json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["blob"])')"
}
field() { python3 -c "import json,sys; print(json.load(sys.stdin)[\"$1\"])"; }
drop_caches() { sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true; }

store="$work/store"
setup "$store"
before=$("$bin" stats --data "$store" --json | field stored_bytes)
drop_caches
gc=$("$bin" gc --data "$store" --grace 0 --json)
after=$("$bin" stats --data "$store" --json | field stored_bytes)
seconds=$(echo "$gc" | field seconds)
compacted=$(echo "$gc" | field packs_compacted)
echo "gc: $gc"
python3 -c "b=$before; a=$after; s=$seconds; print(f'gc: {b/1e9:.2f} GB of packs before, {a/1e9:.2f} GB after; reclaimed {(b-a)/1e9:.2f} GB in {s:.2f} s; packs compacted: $compacted; throughput {b/1e9/s:.2f} GB of packs compacted per second (cold cache)')"

drop_caches
start=$(date +%s.%N); "$bin" fsck --data "$store" --json > /dev/null; end=$(date +%s.%N)
python3 -c "print(f'fsck: {$after/1e9:.2f} GB of packs in {$end-$start:.2f} s = {$after/1e9/($end-$start):.2f} GB/s (cold cache, whole process)')"
drop_caches
start=$(date +%s.%N); "$bin" fsck --data "$store" --scrub --json > /dev/null; end=$(date +%s.%N)
python3 -c "print(f'fsck --scrub: {$after/1e9:.2f} GB of packs in {$end-$start:.2f} s = {$after/1e9/($end-$start):.2f} GB/s (cold cache, whole process)')"

ingest_size=$(( size_mb * 2 * 1000000 ))
setup "$store"
alone=$("$bin" bench ingest --data "$store" --size "$ingest_size" --seed 77 --json | field mbps)
setup "$store"
"$bin" bench ingest --data "$store" --size "$ingest_size" --seed 77 --json > "$work/ingest.json" &
ingest=$!
sleep 0.3
gcstart=$(date +%s.%N)
"$bin" gc --data "$store" --grace 0 --json > "$work/gc2.json"
gcend=$(date +%s.%N)
wait $ingest
beside=$(field mbps < "$work/ingest.json")
echo "ingest of $ingest_size bytes (md5+sha512): alone $alone MB/s; with a second-process GC beside it $beside MB/s (GC: $(cat "$work/gc2.json"), wall $(python3 -c "print(round($gcend-$gcstart,2))") s)"
