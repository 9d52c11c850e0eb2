import io
import logging
from contextlib import closing

import pytest

from prism_platform.jobs.progress import Progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_a_bar_redrawn_in_place() -> None:
    term = Terminal()
    with closing(Progress("itemcf", 4, stream=term, bar_every_s=0.0)) as p:
        p.advance(1)
        p.advance(3)
    frames = term.getvalue().split("\r")[1:]
    assert any(f.startswith("itemcf:  25%|##5 ") and " 1/4 " in f for f in frames)
    assert frames[-1].startswith("itemcf: 100%|" + "#" * 10 + "| 4/4 ")
    assert term.getvalue().endswith("\n") and term.getvalue().count("\n") == 1


def test_the_bar_is_redrawn_at_most_every_bar_every_s() -> None:
    term = Terminal()
    with closing(Progress("itemcf", 10_000, stream=term, bar_every_s=60.0)) as p:
        for _ in range(10_000):
            p.advance(1)
    frames = term.getvalue().split("\r")[1:]
    assert len(frames) <= 3  # the empty bar, maybe one redraw, the final state at close
    assert frames[-1].startswith("itemcf: 100%|") and " 10000/10000 " in frames[-1]


def test_elsewhere_progress_lines_are_logged(caplog: pytest.LogCaptureFixture) -> None:
    stream = io.StringIO()
    with caplog.at_level(logging.INFO, "prism.jobs"):
        with closing(Progress("usercf", 10, stream=stream, log_every_s=0.0)) as p:
            for _ in range(2):
                p.advance(5)
        with closing(Progress("content", 3, stream=stream)) as p:  # every 5 s: only the final line
            p.advance(3)
    lines = [r.getMessage() for r in caplog.records]
    assert [m.split(" seconds=")[0] for m in lines] == [
        "event=progress job=usercf done=5 total=10",
        "event=progress job=usercf done=10 total=10",
        "event=progress job=content done=3 total=3",
    ]
    assert stream.getvalue() == ""
