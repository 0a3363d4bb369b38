"""The network at the file's sizes: exact SymPy evaluation with invented atoms, float evaluation, cuts."""
