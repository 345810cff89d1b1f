"""Import runs and their reports."""
