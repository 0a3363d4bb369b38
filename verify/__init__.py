"""Deciding claims, in the order a claim passes through: `check` (binding and entries, the engine that routes a
claim), `decide` (exact normal forms, the randomized test, the proofs for all sizes), `refute` (counterexamples and
the float oracle), `diagnose` (named repairs of a refuted formula), `witness` (the independent mpmath re-check of
every pass), `run` (the proof cache, file-level workers, typesetting). Results (`results`) are what reports read.
"""
