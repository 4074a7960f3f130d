"""tacroute's built-in condition types, one module (and entry point) each."""
