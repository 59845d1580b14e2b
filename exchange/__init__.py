"""neverblink exchange plane."""
