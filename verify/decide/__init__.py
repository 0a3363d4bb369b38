"""Deciding whether residuals vanish: exact normal forms, modular and randomized tests, proofs for all sizes."""
