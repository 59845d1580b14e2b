"""neverblink state_store plane."""
