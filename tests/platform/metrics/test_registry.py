from prism_platform.metrics.registry import Metrics


def test_counters_and_histograms_render_in_prometheus_text_format() -> None:
    m = Metrics()
    key = ("home_feed", "base", "home_feed", "wt-1")
    m.latency.observe(key, 0.0015)
    m.latency.observe(key, 0.3)
    m.requests.inc((*key, "ok"))
    m.requests.inc((*key, "ok"))
    m.fallbacks.inc(("home_feed", 'dead"line'))
    text = m.render()
    labels = 'scene="home_feed",bucket="base",strategy="home_feed",version="wt-1"'
    assert f'prism_requests_total{{{labels},outcome="ok"}} 2' in text
    assert f'prism_request_latency_seconds_bucket{{{labels},le="0.002"}} 1' in text
    assert f'prism_request_latency_seconds_bucket{{{labels},le="0.5"}} 2' in text
    assert f'prism_request_latency_seconds_bucket{{{labels},le="+Inf"}} 2' in text
    assert f"prism_request_latency_seconds_count{{{labels}}} 2" in text
    assert 'reason="dead\\"line"' in text
    assert "# TYPE prism_request_latency_seconds histogram" in text
