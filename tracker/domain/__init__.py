"""tracker.domain."""
