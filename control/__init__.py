"""neverblink control plane."""
