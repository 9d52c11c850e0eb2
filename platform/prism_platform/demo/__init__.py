"""The embedded demo: a synthetic shop world, its data and metadata, and a traffic simulator."""
