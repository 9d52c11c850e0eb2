"""``prism stress``: a step-load (open-loop) ramp of a scene's sampled requests against a
node's URL, until p99 passes the scene's SLA or errors pass a threshold; the capacity, the
latency-vs-load curve, the target's CPU and RSS, and the change from the previous report."""
