#!/usr/bin/env bash
# Run every benchmark once; each prints its figures as ratios against a baseline of the same run.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { apt-get install -y wrk >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq wrk); }
.venv/bin/python bench/recommend_http.py
.venv/bin/python bench/data_reads.py
.venv/bin/python bench/deploy_convergence.py
.venv/bin/python bench/rank.py
.venv/bin/python bench/feature_log.py
.venv/bin/python bench/sampling_cost.py
.venv/bin/python bench/replay_speed.py
.venv/bin/python bench/stages.py
.venv/bin/python bench/events_ingest.py
.venv/bin/python bench/acm_signing.py
.venv/bin/python bench/itemcf_job.py
.venv/bin/python bench/ann.py
.venv/bin/python bench/home_feed_latency.py
.venv/bin/python bench/overload.py
