#!/usr/bin/env bash
# Run every benchmark once; each prints its figures as ratios against a baseline of the
# same run and its targets (bench/_report.py). bench/REPORT.md collects them all.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { apt-get install -y wrk >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq wrk); }
# deploy_convergence and soak start private ZooKeeper servers from the Debian package
[ -f /usr/share/java/zookeeper.jar ] || { apt-get install -y zookeeper >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq zookeeper); }
out=$(mktemp -d)
export PRISM_BENCH_RESULTS="$out/results.jsonl"
failed=0
for name in recommend_http home_feed_kernel data_reads deploy_convergence rank feature_log sampling_cost \
    replay_speed stages events_ingest acm_signing itemcf_job ann home_feed_latency overload \
    quality_ceiling growth open_loop soak; do
  echo "== bench/$name.py"
  if ! .venv/bin/python "bench/$name.py" 2>&1 | tee "$out/$name.txt"; then
    echo "bench/$name.py failed" | tee -a "$out/$name.txt"
    failed=1
  fi
done
.venv/bin/python bench/report.py "$PRISM_BENCH_RESULTS" "$out"
rm -rf "$out"
exit $failed
