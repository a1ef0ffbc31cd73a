"""The explicit-state engine: compiled transitions, the state store, frontiers and the search."""
