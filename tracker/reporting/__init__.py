"""tracker.reporting."""
