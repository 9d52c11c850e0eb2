"""The operators' web console, mounted on a Prism node at ``/workbench/``.

It reads and changes the control plane only through ``Control``, with the logged-in
user as the actor; see ``extension.mount``."""

from prism_workbench.extension import mount

__all__ = ["mount"]
