"""The experiments part of :class:`~prism_platform.control.facade.Control` beyond
starting and stopping: an experiment's counts over time (the workbench's charts) and its
whitelist, changed in place."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from prism_platform.control.approval_gate import held_for_approval
from prism_platform.db import ExperimentRecord, MetadataStore
from prism_platform.db.records import MAIN_LAYER
from prism_platform.deploy.node import ServingNode
from prism_platform.experiments.series import ExperimentSeries, experiment_series


class ExperimentControl:
    store: MetadataStore
    node: ServingNode

    def experiment_series(
        self,
        scene: str,
        layer: str = MAIN_LAYER,
        *,
        experiment_id: int | None = None,
        since_hours: int = 72,
    ) -> ExperimentSeries:
        """Per bucket of the layer's experiment (``experiment_id``, else the running one):
        exposures, clicks, carts and orders in each hour of the last ``since_hours``."""
        return experiment_series(
            self.store,
            scene,
            layer,
            experiment_id=experiment_id,
            since_hours=since_hours,
            now=datetime.now(UTC),
        )

    @held_for_approval("traffic")  # on a protected scene
    def set_whitelist(
        self,
        scene: str,
        layer: str,
        entries: Mapping[str, str],
        *,
        actor: str,
        expected: Mapping[str, str] | None = None,
    ) -> ExperimentRecord:
        """Force users (user id -> bucket) into buckets of the layer's running experiment,
        replacing its whitelist; the experiment itself (salt, window, counts) goes on. On a
        protected scene the change waits for a second operator's approval. ``expected``:
        the whitelist the edit was made from (a 409 when it has changed since)."""
        exp = self.store.set_whitelist(scene, layer, entries, actor=actor, expected=expected)
        self.node.publish()
        return exp
