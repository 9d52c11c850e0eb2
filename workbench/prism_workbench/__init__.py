"""prism_workbench."""
