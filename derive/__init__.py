"""From a derivation file to symbolic forms: the language, the resolved model, the network at explicit sizes,
exact derivatives (and cuts for forward quantities), formulas in index notation."""
