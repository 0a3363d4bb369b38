"""Diagnoses: small named repairs of a refuted formula, each proved before it is reported."""
