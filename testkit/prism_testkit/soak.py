"""A soak run: steady open-loop load on every node of a cluster while it is deployed to
and its traffic changed on a schedule; what the clients got, and how each serving
process grew (resident memory, open files, threads).

``bench/soak.py`` runs it for 10 minutes and prints the figures;
``tests/platform/coordination/test_soak.py`` runs a minute of it and checks behaviour.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from prism_testkit.accounts import seeded_headers
from prism_testkit.bench import percentile
from prism_testkit.cluster import Cluster, Node, demo_env, prism
from prism_testkit.cpu_watch import CpuSecond, CpuWatch
from prism_testkit.machine_speed import MachineSpeed
from prism_testkit.open_loop import OpenLoop, Run, on_uvloop
from prism_testkit.repo import strategies_repo
from prism_testkit.zookeeper import ZooKeeperServer


@dataclass(frozen=True, slots=True)
class Usage:
    rss_mb: float
    fds: int
    threads: int


def usage(pid: int) -> Usage:
    """A process's resident memory, open file descriptors and threads (Linux /proc)."""
    status = Path(f"/proc/{pid}/status").read_text()
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    rss_kb = int(fields["VmRSS"].split()[0])
    threads = int(fields["Threads"])
    fds = sum(1 for _ in Path(f"/proc/{pid}/fd").iterdir())
    return Usage(rss_kb / 1024, fds, threads)


@dataclass
class SoakReport:
    seconds: float
    runs: dict[str, Run]
    """Per node: every request's status and latency."""
    changes: list[tuple[float, str]] = field(default_factory=list)
    """(seconds into the run, what changed) — deploys and traffic changes."""
    start: dict[str, Usage] = field(default_factory=dict)
    """Per serving process, once every kind of change has been made once (thread pools
    and caches have grown to what the work needs)."""
    end: dict[str, Usage] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    """Changes that failed (an admin call that did not answer 2xx)."""
    cpu: list[CpuSecond] = field(default_factory=list)
    """Each second of the run: how busy the machine was, and not with the soak's own
    processes (the nodes, the generator and ``also_ours``)."""
    machine: MachineSpeed | None = None
    """How fast the machine itself ran (a fixed piece of work's CPU time) through the run."""

    @property
    def requests(self) -> int:
        return sum(len(r.statuses) for r in self.runs.values())

    @property
    def degraded(self) -> list[float]:
        """When the answers that were ``200`` but ``degraded`` were due (seconds into the
        run, every node's, in order)."""
        return sorted(t for r in self.runs.values() for t in r.degraded_due)

    @property
    def failed(self) -> int:
        return sum(len(r.statuses) - r.count(200) for r in self.runs.values())

    def statuses(self) -> dict[int, int]:
        out: dict[int, int] = {}
        for run in self.runs.values():
            for status, _, _ in run.answers:
                out[status] = out.get(status, 0) + 1
        return out

    def failures_by_second(self) -> dict[int, dict[int, int]]:
        """Second of the run (when the request was due) -> status -> how many failed
        (anything but a ``200``)."""
        out: dict[int, dict[int, int]] = {}
        for run in self.runs.values():
            for status, _, due in run.answers:
                if status != 200:
                    at = out.setdefault(int(due), {})
                    at[status] = at.get(status, 0) + 1
        return dict(sorted(out.items()))

    def sent_late_ms(self, second: int) -> float:
        """The most the generator sent a request due in ``second`` after it was due."""
        worst = 0.0
        for run in self.runs.values():
            rate = run.rate
            first, last = int(second * rate), int((second + 1) * rate)
            late = run.sent_late_ms[first:last]
            worst = max(worst, max(late, default=0.0))
        return worst

    def p99(self, since_s: float, until_s: float) -> float:
        """p99 (ms) of the answers due in ``[since_s, until_s)`` on every node."""
        lat = [
            ms
            for run in self.runs.values()
            for status, ms, due in run.answers
            if status == 200 and since_s <= due < until_s
        ]
        return percentile(lat, 99) if lat else 0.0


Change = Callable[[int], str]
"""The ``n``-th change (0, 1, ...): makes it, returns what it did."""


def soak(
    cluster: Cluster,
    *,
    seconds: float,
    rate_per_node: float,
    bodies: Sequence[dict[str, object]],
    every: Mapping[float, Change],
    also_ours: Sequence[int] = (),
) -> SoakReport:
    """Offer ``rate_per_node`` requests a second to each node for ``seconds`` (one
    open-loop generator per node, all on one event loop) while each change in ``every``
    (period in seconds -> change) is made on its period; a period as long as the run
    or longer is not made at all. ``seconds`` must leave room for every kind of change
    to be made once before the start figures are taken."""
    nodes: list[Node] = list(cluster.nodes)
    pids = {n.name: n.process.pid for n in nodes if n.process is not None}
    assert len(pids) == len(nodes), "every node must be running"
    report = SoakReport(seconds, {})
    t0 = time.monotonic()
    stop = threading.Event()
    every = {p: c for p, c in every.items() if p < seconds}  # a longer period: never made
    warm_s = max(every, default=0.0) + 1.0

    def changes(period: float, change: Change) -> None:
        k = 0
        while not stop.wait(max(0.0, t0 + period * (k + 1) - time.monotonic())):
            try:
                what = change(k)
            except (httpx.HTTPError, AssertionError, RuntimeError) as exc:
                report.errors.append(f"{period:g}s change {k}: {exc}")
            else:
                report.changes.append((time.monotonic() - t0, what))
            k += 1

    def sample_start() -> None:
        if not stop.wait(warm_s):
            report.start.update({name: usage(pid) for name, pid in pids.items()})

    async def load() -> list[Run]:
        loops = [OpenLoop(n.port, bodies) for n in nodes]
        return await asyncio.gather(*(g.run(rate_per_node, seconds) for g in loops))

    side = [threading.Thread(target=changes, args=pc, daemon=True) for pc in every.items()]
    side.append(threading.Thread(target=sample_start, daemon=True))
    for w in side:
        w.start()
    with MachineSpeed() as machine:
        with CpuWatch([*pids.values(), *also_ours, machine.pid]) as watch:
            runs = on_uvloop(load())
    report.cpu = watch.seconds
    report.machine = machine
    stop.set()
    for w in side:
        w.join(60)
    report.runs = {n.name: run for n, run in zip(nodes, runs, strict=True)}
    report.end = {name: usage(pid) for name, pid in pids.items()}
    return report


@dataclass(frozen=True, slots=True)
class Step:
    rate_per_node: float
    offered: int
    ok: int
    p99_ms: float
    kept_up: bool
    cores_busy: float = 0.0
    """The machine's cores busy during the step (median of its seconds; 0: not read)."""
    degraded: int = 0
    """Answers ``200`` but ``degraded`` (a scene answering overload with its standby page
    says ``200``)."""

    def holds(self, deadline_ms: float) -> bool:
        """Every request answered ``200`` and not degraded, the generator on schedule, p99
        in the deadline."""
        return (
            self.kept_up
            and self.ok == self.offered
            and not self.degraded
            and self.p99_ms <= deadline_ms
        )


def capacity(
    cluster: Cluster,
    bodies: Sequence[dict[str, object]],
    *,
    deadline_ms: float,
    start_per_node: float = 50.0,
    factor: float = 1.2,
    step_s: float = 6.0,
) -> list[Step]:
    """What the nodes carry together, measured the way the soak loads them: open loop
    on every node at once from this process (the generator shares the machine), the rate
    raised by ``factor`` a step until a step no longer :meth:`Step.holds`, twice in a
    row at that rate (one collector pause or a moment of the machine's can own a short
    step's p99; a rate that fails again is the limit). Every step is returned; the
    capacity is :func:`carried` of them."""
    ports = [n.port for n in cluster.nodes]
    steps: list[Step] = []
    rate = start_per_node
    retried = False
    while True:

        async def load(r: float = rate) -> list[Run]:
            gens = [OpenLoop(port, bodies) for port in ports]
            return await asyncio.gather(*(g.run(r, step_s) for g in gens))

        with CpuWatch([]) as watch:
            runs = on_uvloop(load())
        busy = sorted(sec.busy for sec in watch.seconds[1:])  # the first: the ramp-up
        ok = [ms for run in runs for ms in run.latencies(200)]
        step = Step(
            rate,
            sum(len(run.statuses) for run in runs),
            len(ok),
            percentile(ok, 99) if ok else float("inf"),
            all(run.kept_up for run in runs),
            busy[len(busy) // 2] if busy else 0.0,
            sum(len(run.degraded_due) for run in runs),
        )
        steps.append(step)
        if not step.holds(deadline_ms):
            if retried:
                return steps
            retried = True
            continue
        retried = False
        rate *= factor


def carried(steps: Sequence[Step], deadline_ms: float) -> float | None:
    """The highest rate a node carried in ``steps`` (None: no step held)."""
    return max((s.rate_per_node for s in steps if s.holds(deadline_ms)), default=None)


def sustained(steps: Sequence[Step], deadline_ms: float, cores: int) -> float | None:
    """The rate a node could carry with every core of the machine busy, from the highest
    step that held and how busy it kept the machine (nodes, generator and all): a short
    step answers within the deadline above this rate by queueing, which a ten-minute
    run cannot. None without a held step that read the machine."""
    held = [s for s in steps if s.holds(deadline_ms) and s.cores_busy > 0]
    if not held:
        return None
    top = max(held, key=lambda s: s.rate_per_node)
    return top.rate_per_node * cores / top.cores_busy


def deploys(
    url: str, headers: Mapping[str, str], scene: str, script: str, versions: Sequence[str]
) -> Change:
    """Deploy ``script`` to ``scene``'s base bucket at each of ``versions`` in turn,
    waiting until every node serves it."""

    def change(n: int) -> str:
        version = versions[n % len(versions)]
        body = {"scene": scene, "script": script, "version": version, "wait_s": 20}
        r = httpx.post(f"{url}/admin/deployments", json=body, headers=dict(headers), timeout=60)
        if r.status_code != 201 or not r.json().get("rollout", {}).get("complete", False):
            raise RuntimeError(f"deploy {version[:12]}: {r.status_code} {r.text[:300]}")
        return f"deploy {script}@{version[:12]}"

    return change


def traffic_splits(
    url: str, headers: Mapping[str, str], scene: str, params: Mapping[str, object]
) -> Change:
    """Start an experiment on layer ``soak`` of ``scene`` whose two buckets (the second
    with ``params``) split the traffic differently each time: 50/50, 20/80, 80/20..."""
    splits = (50.0, 20.0, 80.0)

    def change(n: int) -> str:
        a = splits[n % len(splits)]
        body = {
            "name": f"soak-{n}",
            "layer": "soak",
            "buckets": [
                {"name": "a", "percent": a, "params": {}},
                {"name": "b", "percent": 100 - a, "params": dict(params)},
            ],
        }
        r = httpx.post(
            f"{url}/admin/scenes/{scene}/experiments",
            json=body,
            headers=dict(headers),
            timeout=60,
        )
        if r.status_code != 201:
            raise RuntimeError(f"traffic {a:g}/{100 - a:g}: {r.status_code} {r.text[:300]}")
        return f"traffic {a:g}/{100 - a:g}"

    return change


@dataclass(frozen=True)
class SoakCluster:
    cluster: Cluster
    admin: Mapping[str, str]
    """The seeded admin's headers."""
    versions: tuple[str, str]
    """Two commits of ``home_feed.py`` in the nodes' strategies repo."""

    def home_feed_changes(self, deploy_every: float, traffic_every: float) -> dict[float, Change]:
        """Deploys of ``home_feed`` alternating the two commits, and re-splits of its
        traffic (the second bucket with a smaller i2i quota)."""
        url = self.cluster.nodes[0].url
        later, first = self.versions[1], self.versions[0]
        return {
            deploy_every: deploys(url, self.admin, "home_feed", "home_feed.py", [later, first]),
            traffic_every: traffic_splits(url, self.admin, "home_feed", {"quota_i2i": 200}),
        }


@contextmanager
def soak_cluster(
    work: Path, strategies: Path, zookeeper: ZooKeeperServer, scale: float, nodes: int = 3
) -> Iterator[SoakCluster]:
    """``nodes`` nodes on one SQLite database and ``zookeeper`` (a chroot of their own),
    serving the demo world at ``scale`` from a git repo of
    ``strategies`` with two commits of ``home_feed.py``."""
    versions = strategies_repo(strategies, work / "strategies")
    env = demo_env(work, work / "strategies", scale=scale)
    env["PRISM_COORDINATOR"] = zookeeper.url(f"/soak{uuid.uuid4().hex[:8]}")
    prism(["demo", "seed"], env)
    admin = seeded_headers(env)
    cluster = Cluster(work, env)
    try:
        for _ in range(nodes):
            cluster.start_node()
        yield SoakCluster(cluster, admin, versions)
    finally:
        cluster.stop()
