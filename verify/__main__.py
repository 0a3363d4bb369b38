"""`python -m verify FILE` runs derive-check."""

from verify.cli import entry

entry()
