"""Export logs (filled by the dataset work)."""
