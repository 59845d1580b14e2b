"""neverblink bench plane."""
