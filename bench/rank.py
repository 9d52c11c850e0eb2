"""Ranking 500 candidates: the SDK path vs LightGBM's own predict, same model, one run.

(a) SDK: ``ranking.model("bench").score(ctx, items)`` on 500 candidates read from
    three recall tables: the user's features read, the
    candidates' forward-index rows and item features gathered from the local backend's
    columns, float32 assembly of 53 features (user, item, item features, context,
    cross: affinity, recall score, channel one-hots), one predict, re-scored items
    sorted best first;
(b) raw: ``Booster.predict`` on the prebuilt 500 x 53 matrix (the one (a) builds);
(c) naive, as a per-item model server does it: for each candidate read its rows,
    build its feature list in Python, ``Booster.predict`` that one row;
(d) (a) with the model compiled by lleaves (``compiled=True``), when it is installed.

Model: binary LightGBM, 200 trees, 31 leaves. Interleaved; medians of ``--runs``
((c): ``--naive-runs``); for (a) / (b) also the median ratio of the pairs run one after
the other (steadier on a busy machine). The target is (a) <= 1.2 x (b).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import lightgbm
import numpy as np
from _report import target  # bench/_report.py

from prism_sdk import Context, DataClient, Item, LocalBackend, Request, StrategyConfig, ranking
from prism_sdk.ranking import Assembler, Feature, FeatureSpec, ModelError, load_model
from prism_sdk.stages import from_scored

N_ITEMS, N_CANDIDATES = 20_000, 500
CATS = tuple(f"c{i}" for i in range(40))
CHANNELS = ("i2i", "category", "popular")


def spec() -> FeatureSpec:
    f: list[Feature] = [Feature(f"u{i}", "user", f"u{i}") for i in range(15)]
    f += [Feature(f"i{i}", "item", f"i{i}") for i in range(20)]
    f.append(Feature("category", "item", "category", vocab=CATS))
    f += [Feature(f"s{i}", "item_feature", f"s{i}", namespace="item") for i in range(10)]
    f += [Feature("hour", "context", "hour"), Feature("device", "context", "device", vocab=("a",))]
    f.append(Feature("affinity", "cross", "category", op="affinity", user_field="top"))
    f.append(Feature("recall", "cross", op="score"))
    f += [Feature(f"ch_{c}", "cross", op="channel", value=c) for c in CHANNELS]
    return FeatureSpec(tuple(f))


def backend(rng: np.random.Generator) -> LocalBackend:
    b = LocalBackend()
    user = {f"u{i}": float(rng.random()) for i in range(15)}
    b.upsert_features("user", {"u1": {**user, "top": list(CATS[:3])}})
    vals = rng.random((N_ITEMS, 30)).round(4).tolist()
    b.upsert_items(
        {
            str(k): {**{f"i{i}": v[i] for i in range(20)}, "category": CATS[k % 40]}
            for k, v in enumerate(vals)
        }
    )
    b.upsert_features(
        "item", {str(k): {f"s{i}": v[20 + i] for i in range(10)} for k, v in enumerate(vals)}
    )
    return b


def naive_score(ctx: Context[Any], items: list[Item], fs: FeatureSpec, booster: Any) -> list[Item]:
    """The per-item loop: per candidate, its reads, its feature list, one predict."""
    user = ctx.data.features("user", ctx.user_id) or {}
    top = {v: 1.0 / (1.0 + r) for r, v in reversed(list(enumerate(user.get("top", ()))))}
    out = []
    for it in items:
        row = ctx.data.items([it.id])[0] or {}
        feats = ctx.data.features("item", it.id) or {}
        values: list[float] = []
        for f in fs.features:
            if f.source == "cross":
                if f.op == "affinity":
                    values.append(top.get(row.get(f.field), 0.0))
                else:
                    values.append(it.score if f.op == "score" else float(f.value in it.channels))
                continue
            source = {"user": user, "item": row, "item_feature": feats}.get(f.source, ctx.context)
            value = source.get(f.field)
            if f.vocab is not None:
                values.append(f.vocab.index(value) if value in f.vocab else np.nan)
            else:
                values.append(np.nan if value is None else float(value))
        score = float(booster.predict(np.array([values], np.float32))[0])
        out.append(Item(it.id, score, it.channels))
    return sorted(out, key=lambda i: -i.score)


def compiled_handle(text: str, fs: FeatureSpec, probe: Any) -> ranking.ModelHandle | None:
    """The model compiled by lleaves as ``bench_compiled``; None when lleaves is missing."""
    try:
        model = load_model(
            "bench_compiled", "v1", kind="lightgbm", model=text, spec=fs, probe=probe, compiled=True
        )
    except ModelError as exc:
        print(f"  (d) skipped: {exc}")
        return None
    ranking.install(model)
    return ranking.model("bench_compiled")


def timed(fn: Callable[[], Any], results: list[float]) -> None:
    """Run ``fn`` once and append its wall time in µs to ``results``."""
    t0 = time.perf_counter()
    fn()
    results.append((time.perf_counter() - t0) * 1e6)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=300)
    ap.add_argument("--naive-runs", type=int, default=10)
    args = ap.parse_args()
    rng = np.random.default_rng(1)
    fs, data = spec(), backend(rng)
    ids = rng.choice(N_ITEMS, N_CANDIDATES, replace=False).tolist()
    # the candidates come as a strategy's do: from recall tables, read through the SDK
    for n, channel in enumerate(CHANNELS):
        rows = [(str(k), float(rng.random())) for k in ids if k % 3 == n]
        data.replace_table(channel, {"u1": rows})
    recall = DataClient(data).tables
    items = [it for ch in CHANNELS for it in from_scored(recall(ch, ["u1"])[0], ch)]

    def ctx() -> Context[Any]:
        req = Request(scene="s", user_id="u1", context={"hour": 13, "device": "a"})
        return Context(req, StrategyConfig(), DataClient(data))

    # a model trained on the matrices this very path builds (random labels with signal)
    train_items = [Item(str(k), float(rng.random()), CHANNELS[k % 3]) for k in range(0, N_ITEMS, 2)]
    x_train = Assembler(fs).assemble(ctx(), train_items)
    y = (np.nan_to_num(x_train[:, 15:25]).sum(1) + rng.normal(0, 1, len(x_train)) > 5).astype(int)
    params = {"objective": "binary", "num_leaves": 31, "verbose": -1, "min_data_in_leaf": 20}
    ds = lightgbm.Dataset(x_train, label=y, feature_name=fs.names)
    text = lightgbm.train(params, ds, num_boost_round=200).model_to_string()
    model = load_model("bench", "v1", kind="lightgbm", model=text, spec=fs, probe=x_train[:256])
    ranking.install(model)
    handle = ranking.model("bench")
    booster = model.predictor.booster  # type: ignore[attr-defined]
    x = Assembler(fs).assemble(ctx(), items)
    assert np.array_equal(
        np.sort([it.score for it in handle.score(ctx(), items)]), np.sort(booster.predict(x))
    ), "the SDK path must score exactly as Booster.predict"

    naive_scores = sorted(it.score for it in naive_score(ctx(), items, fs, booster))
    assert np.allclose(naive_scores, sorted(booster.predict(x))), "(c) must score as (a)"

    sdk: list[float] = []
    raw: list[float] = []
    asm: list[float] = []
    naive: list[float] = []
    comp: list[float] = []
    fast = compiled_handle(text, fs, x_train[:256])
    for _ in range(20):  # warm-up
        handle.score(ctx(), items)
        booster.predict(x)
    for _ in range(args.runs):
        c = ctx()
        timed(lambda: handle.score(c, items), sdk)  # noqa: B023 - called at once
        timed(lambda: booster.predict(x), raw)
        c = ctx()
        timed(lambda: model.assembler.assemble(c, items), asm)  # noqa: B023
        if fast is not None:
            c = ctx()
            timed(lambda: fast.score(c, items), comp)  # noqa: B023
    for _ in range(args.naive_runs):
        c = ctx()
        timed(lambda: naive_score(c, items, fs, booster), naive)  # noqa: B023
    s, r, a = statistics.median(sdk), statistics.median(raw), statistics.median(asm)
    nv = statistics.median(naive)
    print(f"rank {N_CANDIDATES} candidates x {len(fs.features)} features, 200 trees x 31 leaves")
    print(f"  SDK score (read + assemble + predict + sort): {s:9.0f} us")
    print(f"  raw Booster.predict on a prebuilt matrix:     {r:9.0f} us")
    print(f"  of which feature assembly (incl. the read):   {a:9.0f} us")
    paired = statistics.median(a / b for a, b in zip(sdk, raw, strict=True))
    print(f"  ratio SDK / raw: {s / r:.2f}x (median of pairs {paired:.2f}x; target <= 1.2x)")
    target("rank 500 x 53: SDK score / raw Booster.predict", paired, "<= 1.2", paired <= 1.2, "x")
    print(f"  naive per-item loop (reads, list, predict per row): {nv:9.0f} us")
    print(f"  speed-up SDK vs naive: {nv / s:.1f}x")
    if comp:
        cs = statistics.median(comp)
        print(f"  (d) SDK score, compiled by lleaves:           {cs:9.0f} us  ({cs / r:.2f}x raw)")


if __name__ == "__main__":
    main()
