"""The symbolic model: the formula language, the network at explicit sizes, exact derivatives."""
