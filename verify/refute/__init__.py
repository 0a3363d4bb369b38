"""Refutations: real counterexample points, the float oracle that confirms them, their display."""
