"""prism_testkit."""
