"""A strategy that does no work: it returns a fixed ranked list. The platform-overhead
baseline of the benchmarks, and the smallest complete strategy."""

from prism_sdk import Context, Item

_ITEMS = [Item(str(i), 1.0 / i, "noop") for i in range(1, 201)]


def recommend(ctx: Context) -> list[Item]:
    return _ITEMS[: ctx.size]
