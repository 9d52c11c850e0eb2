"""``uvicorn prism_platform.asgi:app``: the app built from environment settings.

Serving processes also raise the garbage collector's first-generation threshold
(``PRISM_GC_GEN0``, default 50,000): a request allocates a few hundred short-lived
containers, and with the default of 700 the collector ran every couple of
requests, costing about a fifth of the hot path's CPU.
"""

import gc

from prism_platform.app import create_app, installed_extensions
from prism_platform.settings import Settings

settings = Settings()
app = create_app(settings, extensions=installed_extensions())
gc.set_threshold(settings.gc_gen0, 20, 100)
