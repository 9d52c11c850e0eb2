"""Loading files into the data backend and importing real interaction logs."""
