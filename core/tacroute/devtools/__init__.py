"""Tools for working on tacroute itself (not used at run time)."""
