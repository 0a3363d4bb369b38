"""The two surface languages (numpy-like formulas, LaTeX) parsed into one expression tree, never executed."""
