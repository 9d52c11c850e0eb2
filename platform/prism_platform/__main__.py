"""``python -m prism_platform`` is the ``prism`` CLI."""

from prism_platform.cli.main import main

main()
