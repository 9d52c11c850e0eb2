"""Replays: sampled requests run on the live routing twice (A, A′: the noise) and on a
candidate (B: the change), compared per request and in aggregate (docs/operators/traffic.md,
"Replay"). The deploy gate, the workbench and ``prism replay`` use it through
:class:`~prism_platform.control.facade.Control`."""

from prism_platform.replay.arms import ArmFailed, ArmRunner, DispatcherArms, HttpArms, request_seed
from prism_platform.replay.engine import data_facts, load_analysis, read_samples, replay
from prism_platform.replay.fail_if import Rule, judge, metric_value, parse_rules
from prism_platform.replay.lists import new_item_share, overlap_at_k, rbo
from prism_platform.replay.noise import NoiseThresholds
from prism_platform.replay.options import ReplayOptions, parse_candidate

__all__ = [
    "ArmFailed",
    "ArmRunner",
    "DispatcherArms",
    "HttpArms",
    "NoiseThresholds",
    "ReplayOptions",
    "Rule",
    "data_facts",
    "judge",
    "load_analysis",
    "metric_value",
    "new_item_share",
    "overlap_at_k",
    "parse_candidate",
    "parse_rules",
    "rbo",
    "read_samples",
    "replay",
    "request_seed",
]
