"""From a claim to its verdict: binding, the entries compared, the engine that routes each claim."""
