"""The independent witness: an mpmath interpreter that re-checks every positive verdict by central differences."""
