"""Formulas in index notation with symbolic sizes, and their derivatives through Kronecker deltas."""
