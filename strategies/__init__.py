"""User strategies: pure functions from a read-only view to a list of intents."""
