"""The feature spec of rankers trained on recall candidates (``candidate_spec``).

The view-based ``default_spec`` trains on exposures, which carry no recall channel;
this spec is for rankers trained on recall candidates (``prism eval --train-ranker``),
where channel membership and the merged recall score are known. Its user and item
features are written by :mod:`prism_platform.jobs.candidate_features`.
"""

from __future__ import annotations

from collections.abc import Iterable

from prism_platform.jobs.candidate_features import (
    ACTIVITY,
    CATEGORY_SHARE,
    CHANNELS,
    ITEM_STATS,
    LAST_CATEGORIES,
    RECALL_SCORE,
    RECENT_CATEGORIES,
)
from prism_platform.models.trainset import default_spec
from prism_sdk.ranking import Feature, FeatureSpec

__all__ = ["EMB_SCORE", "RECALL_SCORE", "candidate_spec"]
EMB_SCORE = "emb_score"
VECTORS = "emb"


def candidate_spec(categories: Iterable[str]) -> FeatureSpec:
    """``default_spec`` plus the user's category shares (all time and recent), the item's
    engagement, the merged recall score, the inner product of the user's and the item's
    vectors (vector table ``emb``) and the membership of each recall channel."""
    extra = (
        Feature("cat_share", "cross", "category", op="affinity", user_field=CATEGORY_SHARE),
        Feature("cat_recent", "cross", "category", op="affinity", user_field=RECENT_CATEGORIES),
        Feature("cat_last", "cross", "category", op="affinity", user_field=LAST_CATEGORIES),
        Feature("user_activity", "user", ACTIVITY, default=0.0),
        Feature("item_engaged", "item_feature", "engaged", namespace=ITEM_STATS, default=0.0),
        Feature(
            "item_in_category", "item_feature", "in_category", namespace=ITEM_STATS, default=0.0
        ),  # fmt: skip
        Feature(RECALL_SCORE, "cross", op="score"),
        Feature(EMB_SCORE, "cross", op="dot", namespace=VECTORS),
        *(Feature(f"from_{ch}", "cross", op="channel", value=ch) for ch in CHANNELS),
    )
    return FeatureSpec((*default_spec(categories).features, *extra))
