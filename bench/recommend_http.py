"""Recommend throughput and latency over HTTP, all in one run on this machine.

(a) a raw ASGI app returning the same payload as (b);
(b) POST /v1/recommend with the no-op strategy (platform overhead);
(c) POST /v1/recommend on home_feed: frozen, bench/strategies/home_feed_frozen.py (the
    demo's home_feed as issue 18 measured it, so later strategy changes do not move this
    baseline), frozen columnar (its twin on stages.Candidates, same results), and the
    demo's current home_feed.

Each server is uvicorn (uvloop + httptools, one worker); the load generator is wrk. Then
(a) and (b) again with two workers each (``prism serve --workers 2``): on this two-core
machine wrk shares their cores, so that figure is a floor. The
cases take turns, ``--rounds`` times (3, 6 s each), and each figure is the median of its
rounds (a machine whose speed drifts moves every case, not the ones measured last). The
server loads its scripts from a copy of strategies/ with bench/strategies/ added.
Prints req/s and p50/p99 per case and the ratios (b)/(a) and (c)/(b) (target for the
frozen columnar home_feed: >= 0.35).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from _report import target  # bench/_report.py

from prism_testkit.accounts import local_admin_headers

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


FROZEN = {
    "bench_home_frozen": "home_feed_frozen.py",
    "bench_home_columnar": "home_feed_frozen_columnar.py",
}
"""Bench scenes and their frozen scripts (bench/strategies/)."""

AUTH: dict[str, str] = {}
"""The bench admin's token (made in the bench database before the server starts)."""


def http(method: str, url: str, body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("content-type", "application/json")
    for name, value in AUTH.items():
        req.add_header(name, value)
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read())


def wait_ready(url: str, timeout: float = 120.0) -> None:
    t_end = time.time() + timeout
    while time.time() < t_end:
        try:
            http("GET", url)
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"server at {url} did not become ready")


def uvicorn(app: str, port: int, env: dict[str, str], workers: int = 1) -> subprocess.Popen[bytes]:
    if workers > 1 and app == "prism_platform.asgi:app":  # one /metrics directory, and so on
        cmd = [str(BIN / "prism"), "serve", "--port", str(port), "--workers", str(workers)]
        cmd += ["--log-level", "warning"]
        return subprocess.Popen(cmd, env={**os.environ, **env}, cwd=ROOT)
    cmd = [
        str(BIN / "uvicorn"),
        app,
        "--port",
        str(port),
        "--loop",
        "uvloop",
        "--http",
        "httptools",
    ]
    cmd += ["--no-access-log", "--log-level", "warning", "--workers", str(workers)]
    return subprocess.Popen(cmd, env={**os.environ, **env}, cwd=ROOT)


def demo_server_env(var: Path, extra_scripts: Sequence[Path] = ()) -> dict[str, str]:
    """The environment of a demo server under ``var`` serving a fresh copy of
    strategies/ (plus ``extra_scripts``), with the bench admin's token in ``AUTH``."""
    var.mkdir(parents=True, exist_ok=True)
    scripts = var / "strategies"
    shutil.rmtree(scripts, ignore_errors=True)
    shutil.copytree(ROOT / "strategies", scripts, ignore=shutil.ignore_patterns("__pycache__"))
    for path in extra_scripts:
        shutil.copy(path, scripts / path.name)
    env = {
        "PRISM_STRATEGIES_DIR": str(scripts),
        "PRISM_VAR_DIR": str(var),
        "PRISM_DATABASE_URL": f"sqlite:///{var}/bench.db",
        "PRISM_DEMO": "1",
    }
    AUTH.update(local_admin_headers(env))
    return env


def demo_server(
    var: Path,
    extra_env: dict[str, str] | None = None,
    home_feed: dict[str, Any] | None = None,
    timeout: float = 120.0,
) -> tuple[subprocess.Popen[bytes], int]:
    """A one-worker demo server under ``var`` (``extra_env``: e.g. its data backend),
    ready, with ``home_feed`` PATCHed onto the scene; the process and its port (the
    process is stopped if it never gets ready)."""
    env = {**demo_server_env(var), **(extra_env or {})}
    port = free_port()
    server = uvicorn("prism_platform.asgi:app", port, env)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(f"{base}/readyz", timeout)
        if home_feed:
            http("PATCH", f"{base}/admin/scenes/home_feed", home_feed)
    except BaseException:
        server.terminate()
        server.wait(10)
        raise
    return server, port


def wrk(
    url: str, body: dict[str, Any] | Sequence[dict[str, Any]], seconds: int, connections: int
) -> dict[str, float]:
    """wrk's figures for POSTs of ``body`` (several bodies: sent in turn); ``ok_rps``
    counts only the 2xx answers."""
    bodies = [body] if isinstance(body, dict) else list(body)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n')
        literals = ", ".join(json.dumps(json.dumps(b)) for b in bodies)  # Lua reads these
        f.write(f"local bodies = {{{literals}}}\nlocal n = 0\n")
        f.write("request = function()\n  n = n % #bodies + 1\n")
        f.write("  return wrk.format(nil, nil, nil, bodies[n])\nend\n")
        script = f.name
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", script, url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    os.unlink(script)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    sent = float(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    non2xx = float(errors.group(1)) if errors else 0.0
    return {
        "rps": rps,
        "ok_rps": rps * (1 - non2xx / sent) if sent else 0.0,
        "p50_ms": _ms(re.search(r"50%\s+([\d.]+\w+)", out).group(1)),  # type: ignore[union-attr]
        "p99_ms": _ms(re.search(r"99%\s+([\d.]+\w+)", out).group(1)),  # type: ignore[union-attr]
        "non2xx": non2xx,
    }


def median_run(runs: list[dict[str, float]]) -> dict[str, float]:
    """Each figure the median of the runs' (non-2xx: their sum)."""
    out = {key: statistics.median(r[key] for r in runs) for key in runs[0]}
    out["non2xx"] = sum(r["non2xx"] for r in runs)
    return out


def _ms(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(\w+)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--seconds", type=int, default=6, help="per case and round")
    ap.add_argument("--rounds", type=int, default=3, help="figures: the median of the rounds")
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--var-dir", default=str(ROOT / "var" / "bench"))
    args = ap.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (apt-get install wrk)")

    var = Path(args.var_dir)
    env = demo_server_env(var, [ROOT / "bench" / "strategies" / f for f in FROZEN.values()])
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = uvicorn("prism_platform.asgi:app", port, env)
    raw = None
    try:
        wait_ready(f"{base}/readyz")
        scenes = {s["name"] for s in http("GET", f"{base}/admin/scenes")}
        for scene, script in (("bench_noop", "noop.py"), *FROZEN.items()):
            if scene not in scenes:
                http("POST", f"{base}/admin/scenes", {"name": scene, "description": "benchmark"})
            http(
                "POST", f"{base}/admin/configs", {"script": script, "name": "default", "params": {}}
            )
            http("POST", f"{base}/admin/deployments", {"scene": scene, "script": script})
        # what the strategy carries: a 503 past it, not the demo's standby page (a 200)
        http("PATCH", f"{base}/admin/scenes/home_feed", {"on_overload": "refuse"})
        noop_body = {"scene": "bench_noop", "user_id": "42", "size": 20}
        bodies = {s: {"scene": s, "user_id": "42", "size": 20} for s in (*FROZEN, "home_feed")}
        sample = http("POST", f"{base}/v1/recommend", noop_body)
        assert len(sample["items"]) == 20 and not sample["degraded"], sample
        pages = {s: http("POST", f"{base}/v1/recommend", b) for s, b in bodies.items()}
        assert not any(p["degraded"] for p in pages.values()), pages
        frozen, columnar = ([it["item_id"] for it in pages[s]["items"]] for s in FROZEN)
        assert frozen == columnar and len(frozen) == 20, (frozen, columnar)
        payload = var / "payload.json"
        payload.write_text(json.dumps(sample))
        raw_port = free_port()
        raw_env = {"PRISM_BENCH_PAYLOAD": str(payload), "PYTHONPATH": str(ROOT / "bench")}
        raw = uvicorn("raw_app:app", raw_port, raw_env)
        wait_ready_raw(f"http://127.0.0.1:{raw_port}/")
        cases = (
            ("a_raw_asgi", f"http://127.0.0.1:{raw_port}/", noop_body),
            ("b_recommend_noop", f"{base}/v1/recommend", noop_body),
            ("c_home_feed_frozen", f"{base}/v1/recommend", bodies["bench_home_frozen"]),
            ("c_home_feed_frozen_cols", f"{base}/v1/recommend", bodies["bench_home_columnar"]),
            ("c_home_feed_current", f"{base}/v1/recommend", bodies["home_feed"]),
        )
        results = take_turns(cases, args.rounds, args.seconds, args.connections)
        for p in (server, raw):  # the same two apps again, two workers each
            p.terminate()
            p.wait(10)
        server = uvicorn("prism_platform.asgi:app", port, env, workers=2)
        raw = uvicorn("raw_app:app", raw_port, raw_env, workers=2)
        wait_ready(f"{base}/readyz")
        wait_ready_raw(f"http://127.0.0.1:{raw_port}/")
        results |= take_turns(
            [(f"{name}_2_workers", url, body) for name, url, body in cases[:2]],
            args.rounds,
            args.seconds,
            args.connections,
        )
    finally:
        for p in (server, raw):
            if p is not None:
                p.terminate()
                p.wait(10)
    print(f"{'case':<24}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'non-2xx':>9}")
    for name, r in results.items():
        print(
            f"{name:<24}{r['rps']:>10.0f}{r['p50_ms']:>9.2f}{r['p99_ms']:>9.2f}{r['non2xx']:>9.0f}"
        )
    a, b, c, c_cols, c_now, a2, b2 = (results[k]["rps"] for k in results)
    print(f"(b)/(a) throughput ratio: {b / a:.2f}  (target >= 0.50)")
    print(f"two workers (wrk shares the two cores): (b)/(a) {b2 / a2:.2f}; "
          f"2 workers / 1: raw {a2 / a:.2f}x, no-op recommend {b2 / b:.2f}x")  # fmt: skip
    print(f"(c)/(b) frozen home_feed: {c / b:.2f}")
    print(f"(c)/(b) frozen home_feed, columnar: {c_cols / b:.2f}")
    print(f"(c)/(b) current home_feed: {c_now / b:.2f}")
    target("HTTP: no-op recommend / raw ASGI, (b)/(a)", b / a, ">= 0.5", b / a >= 0.5, "x")
    target(
        "HTTP: frozen home_feed columnar / no-op, (c)/(b)",
        c_cols / b,
        ">= 0.35",
        c_cols / b >= 0.35,
        "x",
    )
    ratios = {"b_over_a": b / a, "c_over_b": c / b, "c_columnar_over_b": c_cols / b}
    ratios |= {"c_current_over_b": c_now / b, "b_over_a_2_workers": b2 / a2}
    print(json.dumps({"results": results, **ratios}))


def take_turns(
    cases: Sequence[tuple[str, str, dict[str, Any]]], rounds: int, seconds: int, connections: int
) -> dict[str, dict[str, float]]:
    """wrk's figures for each case, the median of ``rounds`` in which the cases take
    turns (a slow spell of the machine hits each once)."""
    runs: dict[str, list[dict[str, float]]] = {name: [] for name, _, _ in cases}
    for _ in range(rounds):
        for name, url, body in cases:
            wrk(url, body, 1, connections)  # warm-up
            runs[name].append(wrk(url, body, seconds, connections))
    return {name: median_run(r) for name, r in runs.items()}


def wait_ready_raw(url: str) -> None:
    t_end = time.time() + 30
    while time.time() < t_end:
        try:
            urllib.request.urlopen(
                urllib.request.Request(url, data=b"{}", method="POST"), timeout=2
            )
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("raw app did not start")


if __name__ == "__main__":
    main()
