"""The control facade: the one way clients read and change the control plane."""
