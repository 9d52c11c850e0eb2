"""``uvicorn prism_platform.asgi:app``: the app built from environment settings.

A strategy hung past its interrupt restarts the worker (``serving.hang``): only here,
in a process ``prism serve`` started, not in an app embedded elsewhere. Only here too,
a node whose metadata database cannot be reached at start waits for it, not ready,
instead of exiting (``deploy.startup``).

Serving processes also raise the garbage collector's first-generation threshold
(``PRISM_GC_GEN0``, default 50,000): a request allocates a few hundred short-lived
containers, and with the default of 700 the collector ran every couple of
requests, costing about a fifth of the hot path's CPU. Each collection is timed
(``serving.gc_pauses``: ``prism_gc_pause_seconds``, ``event=gc_pause``).
"""

import gc

from prism_platform.app import create_app, installed_extensions
from prism_platform.serving.gc_pauses import GcPauses
from prism_platform.serving.hang import restart_worker
from prism_platform.settings import Settings

settings = Settings()
app = create_app(settings, extensions=installed_extensions(), wait_for_database=True)
if app.recommend.dispatcher.hangs is not None:
    app.recommend.dispatcher.hangs.restart = restart_worker
gc.set_threshold(settings.gc_gen0, 20, 100)
GcPauses(app.metrics, settings.gc_pause_log_ms).install()
