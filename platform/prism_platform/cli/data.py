"""``prism data``: load files into the data backend, apply updates, import real logs.

Every command validates its whole input first (a bad row writes nothing and names
``file:line: field``), then writes through the backend ``PRISM_DATA_BACKEND`` names.
The local backend is saved to ``var/data.msgpack`` only when everything succeeded.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click

from prism_platform.errors import PrismPlatformError
from prism_platform.importing.load import append_events, apply_updates, open_writer, where
from prism_platform.importing.readers import FORMATS, LoadError, detect_format, iter_records
from prism_platform.importing.rows import event_rows, record_rows, table_rows, update_rows
from prism_platform.settings import Settings
from prism_sdk.data import DataBackend, DataWriter

format_option = click.option(
    "--format", "fmt", type=click.Choice(FORMATS), help="default: from the file extension"
)


@click.group()
def data() -> None:
    """Load, update and import the data the strategies read."""


@contextmanager
def writing(what: str, *, fresh: bool = False) -> Iterator[DataWriter]:
    """A writer; every failure becomes one message and a non-zero exit."""
    settings = Settings()
    try:
        with open_writer(settings, fresh=fresh) as writer:
            yield writer
    except click.ClickException:
        raise
    except Exception as exc:  # any failure: one message, the previous version serving
        keep = "nothing was saved; " if settings.data_backend == "local" else ""
        raise click.ClickException(
            f"{what} failed: {exc}\n({keep}the previous version keeps serving)"
        ) from None
    click.echo(f"{what}: written to the {where(settings)}")
    if settings.data_backend == "local" and settings.demo:
        click.echo("note: the platform serves this data when started with PRISM_DEMO=0")


def _read(parse: Callable[[], Any]) -> Any:
    try:
        return parse()
    except LoadError as exc:
        raise click.ClickException(f"{exc} (nothing was written)") from None


@data.command("load")
@click.argument("name")
@click.argument("file")
@click.option(
    "--kind",
    type=click.Choice(("table", "items", "features")),
    default="table",
    show_default=True,
)
@click.option("--namespace", default="user", show_default=True, help="features namespace")
@format_option
def load(name: str, file: str, kind: str, namespace: str, fmt: str | None) -> None:
    """Load FILE (CSV/TSV/JSONL) as result table NAME, or as items or features.

    \b
    table:    key,item,score rows or {"key": ..., "items": [[item, score], ...]}
              (replaces table NAME atomically)
    items:    id plus fields (upserted into the forward index)
    features: id plus fields (upserted into --namespace)
    """
    f = detect_format(file, fmt)
    records = iter_records(file, f)
    if kind == "table":
        table = _read(lambda: table_rows(records, file))
        with writing(f"table {name}: {len(table)} keys") as w:
            w.replace_table(name, table)
        return
    rows = _read(lambda: record_rows(records, file, typed=f == "jsonl"))
    label = f"features {namespace}" if kind == "features" else "items"
    with writing(f"{label}: {len(rows)} rows") as w:
        if kind == "items":
            w.upsert_items(rows)
        else:
            w.upsert_features(namespace, rows)


@data.command("update")
@click.argument("file", default="-")
def update(file: str) -> None:
    """Apply a JSONL stream of forward-index updates (``-``: standard input).

    Each line: {"op": "upsert"|"delete"|"off_shelf", "id": ..., "fields": {...}}.
    """
    ops = _read(lambda: update_rows(iter_records(file, "jsonl"), file))
    with writing(f"{len(ops)} updates") as w:
        counts = apply_updates(w, ops)
    click.echo(", ".join(f"{k} {v}" for k, v in counts.items()))


@data.command("events")
@click.argument("file", default="-")
@format_option
def events(file: str, fmt: str | None) -> None:
    """Append realtime behaviour: {user_id, item_id, type, ts} rows (``-``: stdin)."""
    per_user = _read(lambda: event_rows(iter_records(file, detect_format(file, fmt)), file))
    n = sum(len(v) for v in per_user.values())
    with writing(f"{n} events of {len(per_user)} users") as w:
        append_events(w, per_user)


@data.command("import")
@click.argument("source")
@click.option("--preset", type=click.Choice(("movielens-100k",)), help="SOURCE is its folder")
@click.option("--items", "items_file", help="item catalogue with a header: id, title, category…")
@click.option("--sep", help="log separator (default: tab for .tsv, else comma)")
@click.option("--items-sep", help="catalogue separator (default: by its extension)")
@click.option("--user-col", default="user_id", show_default=True)
@click.option("--item-col", default="item_id", show_default=True)
@click.option("--ts-col", default="ts", show_default=True, help="unix seconds or ISO-8601")
@click.option("--type-col", default="type", show_default=True)
@click.option("--rating-col", help="derive event types from this rating column instead")
@click.option("--positive-rating", default=4.0, show_default=True, help="rating → click")
@click.option("--top-rating", default=5.0, show_default=True, help="rating → order")
@click.option("--no-header", is_flag=True, help="columns are 0-based numbers")
@click.option("--realtime-days", default=7.0, show_default=True, help="0: every event")
@click.option("--half-life-days", default=30.0, show_default=True)
@click.option("--keep-ts", is_flag=True, help="do not shift the log so its newest event is now")
@click.option(
    "--vectors/--no-vectors",
    default=True,
    help="train user and item vectors (emb, i2i_emb) as `prism job embeddings` does",
)
@click.option("--scenes/--no-scenes", default=True, help="create the demo scenes if none exist")
def import_(source: str, preset: str | None, items_file: str | None, **o: Any) -> None:
    """Import an interaction log (SOURCE) and an item catalogue, run the offline jobs
    (ItemCF → i2i, popular, popular_cat, bought_together, category_next, the vectors
    emb) and replace the data with it.

    Ratings map to types: >= --top-rating → order, >= --positive-rating → click, else view.
    """
    # here, not at the top: they bring scipy, and every `prism` command imports this module
    from prism_platform.importing.importer import ImportOptions, import_log
    from prism_platform.importing.logs import Columns, read_catalogue, read_log, read_movielens_100k
    from prism_platform.jobs.embeddings import Training

    cols = Columns(
        o["user_col"], o["item_col"], o["ts_col"], o["type_col"], o["rating_col"],
        o["positive_rating"], o["top_rating"],
    )  # fmt: skip
    if preset:
        log, catalogue = _read(lambda: read_movielens_100k(source))
    else:
        sep = o["sep"] or _sep(source)
        log = _read(lambda: read_log(source, sep, cols, header=not o["no_header"]))
        items_sep = o["items_sep"] or (_sep(items_file) if items_file else ",")
        catalogue = _read(lambda: read_catalogue(items_file, items_sep)) if items_file else None
    opts = ImportOptions(
        realtime_days=o["realtime_days"],
        shift_to_now=not o["keep_ts"],
        half_life_days=o["half_life_days"],
        vectors=Training() if o["vectors"] else None,
    )
    with writing(f"import of {source}", fresh=True) as w:
        counts = import_log(w, log, catalogue, opts)
        click.echo(", ".join(f"{k} {v}" for k, v in counts.items()))
        if o["scenes"] and isinstance(w, DataBackend):
            _ensure_scenes(w)


def _sep(path: str) -> str:
    return "\t" if detect_format(path) == "tsv" else ","


def _ensure_scenes(backend: DataBackend) -> None:
    """Create the demo scenes (gated on this data) when the metadata database has none."""
    from prism_platform.app import create_app

    try:
        app = create_app(dataclasses.replace(Settings(), demo=True), backend=backend)
    except PrismPlatformError as exc:
        click.echo(f"warning: the data is imported but the demo scenes were not created: {exc}")
        return
    app.control.close()
    click.echo(f"scenes: {', '.join(sorted(app.control.state.snapshot.scenes))}")
