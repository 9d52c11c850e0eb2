"""``uvicorn prism_platform.asgi:app``: the app built from environment settings.

Serving processes also raise the garbage collector's first-generation threshold
(``PRISM_GC_GEN0``, default 50,000): a request allocates a few hundred short-lived
containers, and with the default of 700 the collector ran every couple of
requests, costing about a fifth of the hot path's CPU.
"""

import gc
import os

from .app import create_app

app = create_app()
gc.set_threshold(int(os.environ.get("PRISM_GC_GEN0", "50000")), 20, 100)
