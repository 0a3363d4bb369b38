"""One file's claims checked by several workers at once, with exactly the results one worker gives.

A run over fewer files than cores left cores idle: the canonical file's six claims ran one after another on one
core while the other waited. When a run has spare workers, a file gets several (*shards*). Each builds the model
and binds every claim in file order, and checks the claims it takes from a shared counter (`Board.take`), in
file order: a shard that finishes a quick claim takes the next one, so the shards finish together whatever each
claim costs. The parent joins the parts in file order (`merged`).

Why the parts equal a serial run. What a claim's verdict, message and reading depend on besides the model and
the claim itself is, by design, only:
- the values earlier claims bind for later ones (`dW1 = X.T @ dz1`). Binding is one step run for every claim in
  file order whatever its verdict (`verify.check.binding`), so every shard binds every claim and gets the same
  environment;
- the random points and seeds, which are drawn per network or seeded by the claim's name, never by how many
  claims ran before (`verify.decide.modular_point`, `eq.rng.seed` in the engine). A counterexample's values for
  declared functions are drawn per atom and it lists only the atoms its entry uses (`verify.refute.points`):
  checking another claim first creates function atoms, and these once moved the point;
- whether an earlier claim was found wrong, which decides whether the diagnosis may say "fix dz1 first"
  (`verify.run.upstream`). This is the one verdict that crosses claims. Each shard writes every verdict it
  reaches on the board (`tell`), and a shard that needs an earlier claim's reads it there (`heard`), waiting for
  the shard that took it, with its own budgets paused meanwhile. Claims are handed out in file order and a claim
  only asks about earlier ones, so the claim waited for was taken before, by a shard that is checking it or
  has checked it, and that shard in turn waits only on claims before that one: there is no cycle. A shard that
  dies never writes its verdict; the parent then stops the file's other shards and reports the file as stopped,
  so nothing from a half-finished run is shown.
The declared-shape findings are reported (and cached) by the first shard only; each shard caches its own claims.

What can differ is only what a wall-clock budget allows, as between any two runs: a claim checked right after
others finds their work done (the reverse pass through a forward quantity, say) and one checked first in a shard
does it itself, so a claim near the edge of its budget (`--budget 0.05`) may be decided in one run and UNDECIDED
in another. UNDECIDED is never a pass, and with the default budget no example comes near the edge.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from multiprocessing.context import ForkContext
from multiprocessing.sharedctypes import Synchronized
from typing import Any

from derive_check.derive.model.spec import ModelSpec
from derive_check.verify.results import FileResult

WAIT = 0.001  # seconds between looks at the board while another shard finishes an earlier claim
UNKNOWN, RIGHT, WRONG = 0, 1, 2  # a claim's entry on the board: no verdict yet; not found wrong; found wrong


def shard_counts(claims: Sequence[int], singles: Sequence[bool], jobs: int) -> list[int]:
    """How many workers each group gets: one, plus the workers the run would leave idle, given one at a time to
    the single-file group with the most claims per worker (`claims`: each group's claim count; `singles`: whether
    a group is one file, not twins)."""
    counts = [1] * len(claims)
    for _ in range(max(jobs - len(claims), 0)):
        open_ = [k for k in range(len(claims)) if singles[k] and counts[k] < claims[k]]
        if not open_:
            break
        best = max(open_, key=lambda k: (claims[k] / counts[k], -k))
        counts[best] += 1
    return counts


def shardable(spec: ModelSpec) -> bool:
    """Whether the file's claims can be shared out: more than one, each with a name of its own."""
    names = [c.name for c in spec.claims]
    return len(names) > 1 and len(set(names)) == len(names)


class Board:
    """What a file's shards share, in memory they inherit when forked: the next claim to hand out, and each
    claim's verdict so far (UNKNOWN, RIGHT or WRONG)."""

    def __init__(self, names: Sequence[str], context: ForkContext) -> None:
        self.index = {name: k for k, name in enumerate(names)}
        self.next: Synchronized[int] = context.Value("i", 0)
        self.verdicts: Any = context.RawArray("b", len(names))

    def take(self) -> int:
        """The next claim (by position in the file) no shard has taken yet; past the last one when all are."""
        with self.next.get_lock():
            k = self.next.value
            self.next.value = k + 1
        return k

    def tell(self, name: str, wrong: bool) -> None:
        """Record a verdict this shard reached (or read from the cache)."""
        self.verdicts[self.index[name]] = WRONG if wrong else RIGHT

    def heard(self, name: str) -> bool:
        """Whether the claim `name`, taken by another shard, was found wrong, waiting for its verdict."""
        k = self.index[name]
        while self.verdicts[k] == UNKNOWN:
            time.sleep(WAIT)
        return bool(self.verdicts[k] == WRONG)


@dataclass(frozen=True)
class Part:
    """One shard's view of its file: the board, and whether it reports the declared-shape findings."""

    board: Board
    first: bool  # the first shard: it reports and caches the declared-shape findings


def merged(parts: Sequence[FileResult], names: Sequence[str]) -> FileResult:
    """One file's result from its shards' parts: the first part's declared-shape findings, then every claim in
    file order (`names`: the file's claims); the time is the longest part's. A part that failed is the result."""
    for part in parts:
        if part.error:
            return part
    order = {name: k for k, name in enumerate(names)}
    shapes = [c for c in parts[0].claims if c.name not in order]
    claims = sorted((c for part in parts for c in part.claims if c.name in order), key=lambda c: order[c.name])
    return replace(parts[0], claims=(*shapes, *claims), seconds=max(part.seconds for part in parts))
