"""Deciding claims: entries, the exact engine, the proofs for all sizes, refutation, diagnosis, the witness, the cache.

The command line and the pytest plugin (`verify.cli`, `verify.pytest_plugin`) are the composition roots: the only
modules that import `reports/`.
"""
