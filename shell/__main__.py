"""`python -m derive_check FILE...` runs derive-check."""

from derive_check.cli import entry

entry()
