#!/usr/bin/env bash
# Soak run: scripts/soak.sh MINUTES [OUTDIR]
# The live view (in tmux, 160x45) on the simulated fleet (--with-sim) plus real StatsD and OTLP
# senders and five scrape targets — good, hanging, resetting, broken (HTML) and a label
# explosion — all on 127.0.0.1 (scripts/soak_peers.py). Every 10 s it samples RSS, CPU, open
# file descriptors, samples/s and the UI loop's longest busy stretch into OUTDIR/soak.csv;
# at the end OUTDIR/summary.txt gives the slopes after warm-up, the samples lost on the good
# sources and the worst UI stall. Needs tmux, python3 and the statsd PyPI client.
set -euo pipefail
cd "$(dirname "$0")/.."
minutes="${1:?usage: scripts/soak.sh MINUTES [OUTDIR]}"
out="${2:-.soak}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
swift build -c release --product edgetop > "$out/build.log" 2>&1 || { tail -20 "$out/build.log" >&2; exit 1; }
bin="$PWD/.build/release/edgetop"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
http=$(free_port); sd=$(free_port); otlp=$(free_port)
session="edgetop-soak-$$"
rm -f "$out/loop.txt" "$out/peers.txt"
python3 scripts/soak_peers.py --http-port "$http" --statsd-port "$sd" --otlp-port "$otlp" --counts "$out/peers.txt" &
peers=$!
cleanup() { kill "$peers" 2>/dev/null || true; tmux kill-session -t "$session" 2>/dev/null || true; }
trap cleanup EXIT
t="http://127.0.0.1:$http"
tmux new-session -d -s "$session" -x 160 -y 45 \
  "'$bin' --with-sim --loop-report '$out/loop.txt' \
   --statsd 127.0.0.1:$sd --otlp 127.0.0.1:$otlp,region=soak,site=soak1,node=otlp-n1 \
   --scrape $t/good,region=soak,site=soak1,node=good-n1,interval=1 \
   --scrape $t/hang,region=soak,site=soak1,node=hang-n1,interval=2,timeout=1 \
   --scrape $t/reset,region=soak,site=soak1,node=reset-n1,interval=1 \
   --scrape $t/broken,region=soak,site=soak1,node=broken-n1,interval=1 \
   --scrape $t/explode,region=soak,site=soak1,node=explode-n1,interval=1 2> '$out/edgetop.stderr'"
sleep 2
pid=$(pgrep -n -f "$bin --with-sim --loop-report $out/loop.txt" || true)
[[ -n "$pid" ]] || { echo "soak: edgetop did not start" >&2; cat "$out/edgetop.stderr" >&2 || true; exit 1; }
hz=$(getconf CLK_TCK)
echo "t_s,rss_mb,cpu_pct,fds,threads,samples_per_s,ui_busy_max_ms" > "$out/soak.csv"
start=$(date +%s.%N); end=$(python3 -c "print($start + $minutes * 60)")
prev_cpu=""; prev_t=""; prev_samples=""
read_key() { awk -v k="$1" '$1 == k { print $2 }' "$2" 2>/dev/null | head -1; }
while python3 -c "import sys,time; sys.exit(0 if time.time() < $end else 1)"; do
  sleep 10
  kill -0 "$pid" 2>/dev/null || { echo "soak: edgetop exited early" >&2; cat "$out/edgetop.stderr" >&2 || true; exit 1; }
  now=$(date +%s.%N)
  rss=$(awk '/VmRSS/ { printf "%.1f", $2 / 1024 }' /proc/$pid/status)
  threads=$(awk '/Threads/ { print $2 }' /proc/$pid/status)
  cpu=$(awk '{ print $14 + $15 }' /proc/$pid/stat)
  fds=$(ls /proc/$pid/fd | wc -l)
  # samples/s from the source counters in the loop report (the simulator's own are not there)
  samples=$(awk '$1 ~ /^source_.*_samples$/ { s += $2 } END { print s + 0 }' "$out/loop.txt" 2>/dev/null || echo 0)
  busy=$(read_key busy_max_10s_ms "$out/loop.txt"); busy=${busy:-nan}
  if [[ -n "$prev_cpu" ]]; then
    read -r pct sps < <(python3 -c "dt=$now-$prev_t; print('%.1f %.0f' % (100*($cpu-$prev_cpu)/$hz/dt, ($samples-$prev_samples)/dt))")
    t_s=$(python3 -c "print('%.0f' % ($now - $start))")
    echo "$t_s,$rss,$pct,$fds,$threads,$sps,$busy" >> "$out/soak.csv"
  fi
  prev_cpu=$cpu; prev_t=$now; prev_samples=$samples
done
# Stop the senders, let the last datagrams and requests land, then read the counters.
kill -TERM "$peers"; wait "$peers" 2>/dev/null || true
sleep 12
tmux capture-pane -p -t "$session" > "$out/last-screen.txt" || true
tmux send-keys -t "$session" q
sleep 1
python3 - "$out" <<'PY'
import csv, sys
out = sys.argv[1]
rows = list(csv.DictReader(open(out + "/soak.csv")))
def kv(path):
    d = {}
    for line in open(path):
        k, _, v = line.partition(" ")
        d[k] = float(v)
    return d
loop, peers = kv(out + "/loop.txt"), kv(out + "/peers.txt")
warm = [r for r in rows if float(r["t_s"]) >= min(120, float(rows[-1]["t_s"]) / 5)]
def slope(key):
    xs = [float(r["t_s"]) / 3600 for r in warm]; ys = [float(r[key]) for r in warm]
    n = len(xs); mx = sum(xs) / n; my = sum(ys) / n
    den = sum((x - mx) ** 2 for x in xs)
    return (sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / den) if den else 0.0
def src(kind):
    return sum(v for k, v in loop.items() if k.startswith("source_") and k.endswith("_samples") and kind in k)
statsd_got, otlp_got = src("statsd"), src("otlp")
lines = [
    "minutes %.1f" % (float(rows[-1]["t_s"]) / 60),
    "rss_mb first/after-warmup/last/max %s / %s / %s / %.1f" % (rows[0]["rss_mb"], warm[0]["rss_mb"], rows[-1]["rss_mb"], max(float(r["rss_mb"]) for r in rows)),
    "rss_slope_mb_per_hour %.2f" % slope("rss_mb"),
    "fds first/last/max %s / %s / %d" % (rows[0]["fds"], rows[-1]["fds"], max(int(r["fds"]) for r in rows)),
    "fd_slope_per_hour %.2f" % slope("fds"),
    "threads first/last %s / %s" % (rows[0]["threads"], rows[-1]["threads"]),
    "cpu_pct mean %.1f" % (sum(float(r["cpu_pct"]) for r in warm) / len(warm)),
    "statsd sent/received/lost %d / %d / %d" % (peers["statsd_lines"], statsd_got, peers["statsd_lines"] - statsd_got),
    "otlp points sent/received/lost %d / %d / %d (requests failed %d)" % (peers["otlp_points"], otlp_got, peers["otlp_points"] - otlp_got, peers["otlp_failed"]),
    "ui_busy_max_ms %.1f (goal <= 100)" % loop.get("busy_max_ms", float("nan")),
    "ui_iterations %d" % loop.get("iterations", 0),
]
open(out + "/summary.txt", "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
