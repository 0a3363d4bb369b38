"""One namespace per derivation file: every name has exactly one meaning.

A file declares names in several places: sizes, inputs, parameters, declared functions (with
their derivatives df, ddf and a scalar function's gradient), forward lines, claims and the
index variables of entry claims. Formulas refer to all of them by bare name, so two
declarations of one name would make a formula mean whichever was bound last: a claim named
`P` would silently replace the forward quantity P in every later claim. Collisions are
therefore input errors at the second declaration, naming the first, and so are names that
spell a function of the language (`exp`, `sum`): a formula could not tell the two apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from derive_check.derive.errors import InputError, Location
from derive_check.derive.ops.table import RESERVED

KINDS = {
    "size": "a size",
    "input": "an input",
    "param": "a parameter",
    "function": "a declared function",
    "gradient": "a declared gradient",
    "forward": "a forward quantity",
    "claim": "a claim",
    "index": "an index variable",
}


@dataclass
class Namespace:
    """Names declared so far, each with its kind and where it was declared."""

    kinds: dict[str, str] = field(default_factory=dict)
    places: dict[str, Location] = field(default_factory=dict)
    labels: dict[str, str | int] = field(default_factory=dict)  # label vectors ("N, labels C") -> classes
    onehot: set[str] = field(default_factory=set)  # one-hot inputs ("N x C, onehot"): 0/1 data
    partial: set[str] = field(default_factory=set)  # forward lines that may be undefined (1/h, log, sqrt)

    def declare(self, name: str, kind: str, where: Location) -> None:
        """Record `name`, or raise InputError if it is taken, reserved or not an identifier."""
        if not name.isidentifier() or name.startswith("_"):
            raise InputError(f"'{name}' is not a valid name (letters, digits, '_'; not starting with '_')", where)
        if name in RESERVED:
            raise InputError(
                f"'{name}' is a function of the formula language and cannot name {KINDS[kind]}; "
                f"choose another name (e.g. '{name}_')",
                where,
            )
        if name in self.kinds:
            first = self.places[name]
            at = f" (line {first.line})" if first.line else ""
            raise InputError(
                f"'{name}' is already declared as {KINDS[self.kinds[name]]}{at}; every name has one meaning, "
                f"so {KINDS[kind]} needs another name",
                where,
            )
        self.kinds[name] = kind
        self.places[name] = where

    def of_kind(self, *kinds: str) -> set[str]:
        """The names declared with one of `kinds`."""
        return {n for n, k in self.kinds.items() if k in kinds}

    def kind(self, name: str) -> str | None:
        """The kind of `name`, or None if it is not declared."""
        return self.kinds.get(name)

    def copy(self) -> Namespace:
        """An independent copy (claims of a file that extends another are added to a copy)."""
        return Namespace(
            kinds=dict(self.kinds),
            places=dict(self.places),
            labels=dict(self.labels),
            onehot=set(self.onehot),
            partial=set(self.partial),
        )
