"""neverblink runner plane."""
