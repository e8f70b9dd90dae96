"""The table of benchmarks/compare: reads each load's JSON from the work directory and the dedup
figures from stdin; prints the table and writes compare.json and compare.png to the output
directory. Usage: compare_report.py WORK OUT HTTP_SECONDS QUICK < dedup.json"""
import json
import os
import platform
import sys

work, out, http_seconds, quick = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "1"
dedup = json.loads(sys.stdin.read() or "{}")


def load(name):
    path = os.path.join(work, name + ".json")
    return json.load(open(path)) if os.path.exists(path) else None


def cpu_per_gb(result):
    return result["server_cpu_seconds"] / (result["bytes"] / 1e9) if result and result.get("bytes") else None


g = {k: load("glance-" + k) for k in ("upload1", "download", "upload8", "metadata")}
r = {k: load("granary-" + k) for k in ("upload1", "download", "upload8", "metadata", "sha256-upload8", "zc-download", "zcb-download",
                                       "zcb-upload1", "cold-download")}


def download(result, step, key):
    return result and result[step][key]

STEPS = {"first": "right after the upload", "second": "read again"}


def download_rows(run, suffix, note="", steps=("first", "second")):
    """MB/s and server CPU per GB of Granary's download pass `run` against Glance's, per step."""
    rows = []
    for step in steps:
        rows.append((f"download MB/s, {STEPS[step]}{suffix}{note if step == 'first' else ''}", download(g["download"], step, "mbps"),
                     download(r[run], step, "mbps"), True, 1.3))
        rows.append((f"download server CPU-s per GB, {STEPS[step]}{suffix}", download(g["download"], step, "cpu_per_gb"),
                     download(r[run], step, "cpu_per_gb"), False, 0.5))
    return rows


# (measure, glance, granary, higher is better, target ratio)
rows = [
    ("upload MB/s, 1 at a time", g["upload1"] and g["upload1"]["mbps"], r["upload1"] and r["upload1"]["mbps"], True, 2.0),
    ("upload MB/s, 8 at a time", g["upload8"] and g["upload8"]["mbps"], r["upload8"] and r["upload8"]["mbps"], True, 1.2),
    ("upload server CPU-s per GB, 8 at a time", cpu_per_gb(g["upload8"]), cpu_per_gb(r["upload8"]), False, 0.8),
    ("upload MB/s, 8 at a time, Granary sha256 + no md5", g["upload8"] and g["upload8"]["mbps"],
     r["sha256-upload8"] and r["sha256-upload8"]["mbps"], True, 2.0),
    *download_rows("download", "", note=" (curl, one at a time)"),
    *download_rows("zc-download", ", zero-copy", note=" (verify_reads off)"),
    ("upload MB/s, 1 at a time, buffered packs", g["upload1"] and g["upload1"]["mbps"], r["zcb-upload1"] and r["zcb-upload1"]["mbps"], True, 2.0),
    *download_rows("zcb-download", ", zero-copy, buffered packs", steps=("first",)),
    *download_rows("cold-download", ", cold_reads direct"),
    ("creates/s, 8 at a time", g["metadata"] and g["metadata"]["creates_per_s"], r["metadata"] and r["metadata"]["creates_per_s"], True, None),
    ("create p99 ms", g["metadata"] and g["metadata"]["create_ms"]["p99"], r["metadata"] and r["metadata"]["create_ms"]["p99"], False, 0.1),
    ("lists/s (1000-image pages)", g["metadata"] and g["metadata"]["lists_per_s"], r["metadata"] and r["metadata"]["lists_per_s"], True, None),
    ("patches/s", g["metadata"] and g["metadata"]["patches_per_s"], r["metadata"] and r["metadata"]["patches_per_s"], True, None),
    ("deletes/s", g["metadata"] and g["metadata"]["deletes_per_s"], r["metadata"] and r["metadata"]["deletes_per_s"], True, None),
]


def fmt(value):
    if value is None:
        return "–"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


table = []
for name, glance, granary, higher, target in rows:
    ratio = granary / glance if glance and granary is not None else None
    met = None
    if ratio is not None and target is not None:
        met = ratio >= target if higher else ratio <= target
    table.append({"measure": name, "glance": glance, "granary": granary, "ratio": ratio,
                  "target": (("≥ " if higher else "≤ ") + f"{target}×") if target else None, "met": met})

errors = {name: res["errors"] for name, res in {**{"glance-" + k: v for k, v in g.items()}, **{"granary-" + k: v for k, v in r.items()}}.items()
          if res and isinstance(res.get("errors"), dict) and res["errors"]}

lines = ["| measure | Glance | Granary | Granary / Glance | target |", "|---|---:|---:|---:|---|"]
for row in table:
    mark = {True: " ✓", False: " ✗", None: ""}[row["met"]]
    ratio = f"{row['ratio']:.2f}×" if row["ratio"] is not None else "–"
    lines.append(f"| {row['measure']} | {fmt(row['glance'])} | {fmt(row['granary'])} | {ratio} | {(row['target'] or '') + mark} |")
if dedup.get("tools"):
    lines += ["", f"Dedup stores on {dedup['files']} files, {dedup['logical_bytes'] / 1e9:.2f} GB logical:", "",
              "| tool | stored MB | ingest s | MB/s |", "|---|---:|---:|---:|"]
    for tool, figures in sorted(dedup["tools"].items(), key=lambda kv: kv[1]["stored_bytes"]):
        lines.append(f"| {tool} | {figures['stored_bytes'] / 1e6:,.0f} | {figures['seconds']:.1f} | {figures['mbps']:.0f} |")
if errors:
    lines += ["", "Errors: " + json.dumps(errors)]

cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
memory = next((int(l.split()[1]) * 1024 for l in open("/proc/meminfo") if l.startswith("MemTotal")), 0)
machine = f"{os.cpu_count()} cores ({cpu}), {memory / 2**30:.0f} GiB, {platform.platform()}"
lines += ["", f"Machine: {machine}. HTTP loads took {http_seconds} s." + (" (--quick: smoke-sized loads)" if quick else "")]
text = "\n".join(lines)
print(text)

os.makedirs(out, exist_ok=True)
json.dump({"machine": machine, "quick": quick, "http_seconds": http_seconds, "table": table, "dedup": dedup,
           "runs": {"glance": g, "granary": r}}, open(os.path.join(out, "compare.json"), "w"), indent=1)
open(os.path.join(out, "compare.md"), "w").write(text + "\n")

import matplotlib  # noqa: E402 (only the chart needs it)
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

shown = [row for row in table if row["ratio"] is not None]
figure, axes = plt.subplots(1, 2 if dedup.get("tools") else 1, figsize=(13, 5.5), squeeze=False)
ax = axes[0][0]
ax.barh([row["measure"] for row in shown], [row["ratio"] for row in shown],
        color=["tab:green" if row["met"] is not False else "tab:red" for row in shown])
ax.axvline(1, color="black", linewidth=0.8)
ax.set_xscale("log")
ax.invert_yaxis()
ax.set_xlabel("Granary / Glance (log scale; CPU and latency rows: lower is better)")
ax.set_title("Granary vs Glance, same machine, same load")
if dedup.get("tools"):
    ax = axes[0][1]
    tools = sorted(dedup["tools"].items(), key=lambda kv: kv[1]["stored_bytes"])
    ax.bar([t for t, _ in tools], [f["stored_bytes"] / 1e6 for _, f in tools], color="tab:blue")
    ax.set_ylabel("MB stored")
    ax.set_title(f"{dedup['logical_bytes'] / 1e9:.2f} GB of disk images, stored")
figure.tight_layout()
figure.savefig(os.path.join(out, "compare.png"), dpi=110)
print(f"\nwrote {out}/compare.json, compare.md and compare.png", file=sys.stderr)
