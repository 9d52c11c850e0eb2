"""What ``prism cluster`` does without bringing a cluster up: it refuses a folder it would
overwrite and ports in use, says when a folder holds no cluster, and stops only the
processes it recorded (a pid reused since is left alone). Bringing one up, deploying and
replaying across it: tests/platform/coordination/test_production_topology.py."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from prism_testkit.cluster_cli import cluster
from prism_testkit.process_record import ProcessRecord, start_ticks
from prism_testkit.services import free_port_run


def _sleeper() -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])


def test_a_recorded_process_is_stopped_and_then_reported_gone(tmp_path: Path) -> None:
    process = _sleeper()
    try:
        record = ProcessRecord.of("sleeper", process.pid, tmp_path / "log", 0)
        again = ProcessRecord.from_json(record.to_json())
        assert again == record and again.alive
        assert again.stop(timeout=5) is True
        process.wait(timeout=5)
        assert not record.alive and start_ticks(process.pid) is None
        assert record.stop() is False
    finally:
        process.kill()
        process.wait()


def test_a_pid_that_started_again_is_not_the_recorded_process(tmp_path: Path) -> None:
    process = _sleeper()
    try:
        ticks = start_ticks(process.pid)
        assert ticks is not None
        other = ProcessRecord("sleeper", process.pid, ticks - 1, str(tmp_path / "log"), 0)
        assert not other.alive
        assert other.stop() is False  # not signalled: it runs on
        assert process.poll() is None
    finally:
        process.kill()
        process.wait()


def test_status_and_down_say_when_the_folder_holds_no_cluster(tmp_path: Path) -> None:
    runner = CliRunner()
    for command in ("status", "down"):
        result = runner.invoke(cluster, [command, "--dir", str(tmp_path)])
        assert result.exit_code == 1
        assert f"no cluster in {tmp_path} (prism cluster up)" in result.output


def test_up_refuses_a_folder_in_use_and_ports_in_use(tmp_path: Path) -> None:
    runner = CliRunner()
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "node1.log").write_text("a failed up")
    result = runner.invoke(cluster, ["up", "--dir", str(tmp_path / "used")])
    assert result.exit_code == 1 and "is not empty" in result.output

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        args = ["up", "--dir", str(tmp_path / "new"), "--port", str(port), "--nodes", "1"]
        result = runner.invoke(cluster, args)
    assert result.exit_code == 1 and f"ports [{port}] are in use" in result.output


@pytest.mark.parametrize("name", ["Prism", "a-b", "x; DROP"])
def test_up_refuses_a_database_name_it_would_have_to_quote(tmp_path: Path, name: str) -> None:
    args = ["up", "--dir", str(tmp_path / "c"), "--port", str(free_port_run(3))]
    result = CliRunner().invoke(cluster, [*args, "--database", name])
    assert result.exit_code == 1 and "a database name is lowercase letters" in result.output
