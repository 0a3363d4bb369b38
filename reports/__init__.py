"""Pure renderers from verification results: terminal, LaTeX, JSON, JUnit and annotations; they never decide."""
