"""``python -m prism_platform`` is the ``prism`` CLI."""

from .cli import main

main()
