import numpy as np

from prism_platform.demo.world import generate_world


def test_the_world_is_deterministic_for_a_seed() -> None:
    a = generate_world(3, n_users=200, n_items=1000, n_events=10_000)
    b = generate_world(3, n_users=200, n_items=1000, n_events=10_000)
    c = generate_world(4, n_users=200, n_items=1000, n_events=10_000)
    assert np.array_equal(a.ev_item, b.ev_item) and a.item_title == b.item_title
    assert not np.array_equal(a.ev_item[:500], c.ev_item[:500])


def test_the_world_looks_like_a_shop() -> None:
    w = generate_world(1, n_users=500, n_items=3000, n_events=40_000)
    assert 30_000 < len(w.ev_item) < 60_000
    counts = np.bincount(w.ev_type, minlength=4)
    assert counts[0] > counts[1] > counts[2] > counts[3] > 0  # view > click > cart > order funnel
    per_item = np.sort(np.bincount(w.ev_item, minlength=w.n_items))[::-1]
    assert per_item[: w.n_items // 100].sum() > 0.15 * per_item.sum()  # power-law popularity
    assert 0.02 < 1 - w.item_on_shelf.mean() < 0.09
    assert (w.ev_ts <= 0).all() and (w.ev_ts > -31 * 86400).all()
    # users browse mostly their favourite categories
    top = np.argsort(-w.user_taste, axis=1)[:, :3]
    viewed_cat = w.item_category[w.ev_item]
    share = np.mean([c in top[u] for u, c in zip(w.ev_user[:5000], viewed_cat[:5000], strict=True)])
    assert share > 0.5
    rows = w.item_rows()
    assert rows["1"].keys() == {"title", "price", "category", "shop", "status", "image"}
    assert w.user_feature_rows()["1"]["top_categories"] == w.top_categories(0)
