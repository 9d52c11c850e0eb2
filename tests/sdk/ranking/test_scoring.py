"""The scorer: SDK predictions equal Booster.predict on the assembled matrix; versions
are validated before they load; handles swap whole versions."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import lightgbm
import msgspec
import numpy as np
import numpy.typing as npt
import pytest
from sklearn.linear_model import LogisticRegression

from prism_sdk import Context, Item, ranking
from prism_sdk.ranking import (
    Assembler,
    FeatureSpec,
    LoadedModel,
    LogisticModel,
    ModelError,
    ModelUnavailable,
    load_model,
    validate,
)

CtxFactory = Callable[..., Context[Any]]
Probe = npt.NDArray[np.float32]


@pytest.fixture
def handle() -> Iterator[ranking.ModelHandle]:
    yield ranking.model("test_ctr")
    ranking.uninstall("test_ctr")


@pytest.fixture
def lightgbm_v1(
    spec: FeatureSpec, model_text: str, probe: Probe, handle: ranking.ModelHandle
) -> ranking.ModelHandle:
    """``handle`` serving the LightGBM model as ``test_ctr@v1``."""
    ranking.install(
        load_model("test_ctr", "v1", kind="lightgbm", model=model_text, spec=spec, probe=probe)
    )
    return handle


def test_sdk_scores_equal_booster_predict_on_the_assembled_matrix(
    make_ctx: CtxFactory,
    spec: FeatureSpec,
    cands: list[Item],
    model_text: str,
    lightgbm_v1: ranking.ModelHandle,
) -> None:
    ctx = make_ctx("u1", device="ios")
    scored = lightgbm_v1.score(ctx, cands)
    x = Assembler(spec).assemble(make_ctx("u1", device="ios"), cands)
    expected = lightgbm.Booster(model_str=model_text).predict(x)
    by_id = {it.id: it.score for it in scored}
    assert [by_id[it.id] for it in cands] == expected.tolist()  # bit-for-bit
    assert [it.score for it in scored] == sorted(by_id.values(), reverse=True)
    assert {it.id: it.channels for it in scored} == {it.id: it.channels for it in cands}
    stage = ctx.trace.as_list()[-1]
    assert stage["stage"] == "scorer.test_ctr" and stage["model"] == "test_ctr@v1"
    assert stage["in"] == stage["out"] == len(cands) and "predict_ms" in stage
    assert ctx.data.round_trips == 1


def test_scoring_keeps_each_candidates_trace_and_acm_fields(
    make_ctx: CtxFactory, cands: list[Item], lightgbm_v1: ranking.ModelHandle
) -> None:
    marked = [
        Item(it.id, it.score, it.channels, {"n": i}, {"src": f"r{i}"}) for i, it in enumerate(cands)
    ]
    scored = lightgbm_v1.score(make_ctx("u1"), marked)
    assert sorted(int(it.id) for it in scored) == list(range(len(cands)))
    assert all(it.trace == {"n": int(it.id)} for it in scored)
    assert all(it.acm_extra == {"src": f"r{it.id}"} for it in scored)
    assert not {id(it) for it in scored} & {id(it) for it in marked}  # copies, not edits
    assert [it.score for it in marked] == [it.score for it in cands]


def test_logistic_regression_matches_scikit_learn(
    make_ctx: CtxFactory, spec: FeatureSpec, cands: list[Item], handle: ranking.ModelHandle
) -> None:
    x = Assembler(spec).assemble(make_ctx("u1"), cands)
    y = (np.arange(len(cands)) % 3 == 1).astype(int)
    lr = LogisticRegression(max_iter=1000).fit(np.nan_to_num(x), y)
    text = msgspec.json.encode(
        LogisticModel(lr.coef_[0].tolist(), float(lr.intercept_[0]), spec.names)
    )
    ranking.install(load_model("test_ctr", "v2", kind="logistic", model=text, spec=spec, probe=x))
    scored = {it.id: it.score for it in handle.score(make_ctx("u1"), cands)}
    expected = lr.predict_proba(np.nan_to_num(x).astype(np.float64))[:, 1]
    assert [scored[it.id] for it in cands] == pytest.approx(expected.tolist(), abs=1e-12)


def test_an_empty_handle_says_so(make_ctx: CtxFactory, handle: ranking.ModelHandle) -> None:
    assert not handle.ready and handle.version is None
    with pytest.raises(ModelUnavailable, match="test_ctr"):
        handle.score(make_ctx(), [Item("1")])


def test_install_swaps_whole_versions(
    spec: FeatureSpec, model_text: str, probe: Probe, handle: ranking.ModelHandle
) -> None:
    v1 = load_model("test_ctr", "v1", kind="lightgbm", model=model_text, spec=spec, probe=probe)
    v2 = load_model("test_ctr", "v2", kind="lightgbm", model=model_text, spec=spec, probe=probe)
    assert ranking.install(v1) is None
    assert ranking.install(v2) is v1 and handle.current is v2 and handle.version == "v2"


def _load(spec: FeatureSpec, model: str, probe: Probe, kind: str = "lightgbm") -> None:
    load_model("ctr", "v7", kind=kind, model=model, spec=spec, probe=probe)


def test_broken_model_text_is_rejected(spec: FeatureSpec, model_text: str, probe: Probe) -> None:
    with pytest.raises(ModelError, match="model ctr@v7: cannot parse the LightGBM model"):
        _load(spec, "garbage", probe)  # (truncated files can abort LightGBM: see sandbox)
    with pytest.raises(ModelError, match="model ctr@v7: unknown model kind 'pickle'"):
        _load(spec, model_text, probe, kind="pickle")
    with pytest.raises(ModelError, match="model ctr@v7: bad logistic model JSON"):
        _load(spec, '{"coef": "x"}', probe, kind="logistic")


def test_a_spec_that_does_not_fit_the_model_is_rejected(
    spec: FeatureSpec, model_text: str, probe: Probe
) -> None:
    short = FeatureSpec(spec.features[:-1])
    with pytest.raises(ModelError, match="takes 9 features, the spec names 8"):
        _load(short, model_text, probe[:, :-1])
    swapped = FeatureSpec((spec.features[1], spec.features[0], *spec.features[2:]))
    with pytest.raises(ModelError, match="feature 0 is 'gender' in the model but 'age'"):
        _load(swapped, model_text, probe)


def test_probe_validation(spec: FeatureSpec, model_text: str, probe: Probe) -> None:
    with pytest.raises(ModelError, match=r"probe: needs a matrix .* got shape \(32, 3\)"):
        _load(spec, model_text, probe[:, :3])
    constant = np.repeat(probe[:1], 8, axis=0)
    with pytest.raises(ModelError, match=r"probe: every score is .* \(a constant model\)"):
        _load(spec, model_text, constant)
    with pytest.raises(ModelError, match=r"model ctr@v7: .*out of range - at `\$.coef\[0\]`"):
        _load(spec, '{"coef": [1e999, 1, 1, 1, 1, 1, 1, 1, 1], "intercept": 0}', probe, "logistic")


class _Stub:
    """A predictor returning fixed scores."""

    kind = "stub"
    n_features = 9

    def __init__(self, scores: list[float], classifier: bool = True) -> None:
        self.scores, self.classifier = np.array(scores), classifier

    def feature_names(self) -> None:
        return None

    def predict(self, x: Probe) -> npt.NDArray[np.float64]:
        return self.scores


@pytest.mark.parametrize(
    ("scores", "classifier", "culprit"),
    [
        ([0.1, float("nan")], True, "1 of 2 scores are not finite"),
        ([0.1, 1.5], True, r"classifier scores outside \[0, 1\]"),
        ([0.1, 0.2, 0.3], True, "expected 2 scores"),
    ],
)
def test_insane_scores_are_rejected(
    spec: FeatureSpec, probe: Probe, scores: list[float], classifier: bool, culprit: str
) -> None:
    model = LoadedModel("ctr", "v7", spec, _Stub(scores, classifier))
    with pytest.raises(ModelError, match=f"model ctr@v7: probe: {culprit}"):
        validate(model, probe[:2])
    assert validate(LoadedModel("r", "v1", spec, _Stub([-3.0, 7.0], False)), probe[:2]).size == 2
