"""Claims, the equality engine, verdicts and the CLI composition root."""
