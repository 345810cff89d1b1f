"""Stock accountability: the per-site ledger (`ledger`) and its services (`services`)."""
