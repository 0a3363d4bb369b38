"""Pure renderers from verification results to text (terminal, JSON, annotations)."""
