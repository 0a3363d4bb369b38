"""The op table: one entry per operation, owning its spelling, shape, evaluation, derivative and printing."""
