"""The analysts' overview dashboard: reads (`selectors`) and figures (`charts`)."""
