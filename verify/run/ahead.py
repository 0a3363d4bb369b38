"""The witness worked out ahead, on a core that would otherwise wait while the engine loads.

Before any worker can start, the parent imports SymPy and the engine (about 0.2 s), and a second core sits idle
meanwhile. The witness needs neither (`verify.witness` evaluates with mpmath), and what it says of a claim as
written does not depend on the engine's verdict (`verify.witness.crosscheck.Said`). So when a run may use more
than one worker, the parent first forks a child that works the witness's reports out for the files' claims, in
the order the workers will take them, while the parent imports the engine. Just before forking the workers, the
parent takes what the child has sent so far and stops it. The claims it reached are not witnessed again; the
others are witnessed by the workers, as before.

Why a report from here is the report the worker would have made: it is computed from the very model object the
worker checks (the child is forked from the parent that holds it), for the claim of that name in that file, by
`said_of`, which uses the earlier claims and the seed that `crosscheck` uses. The witness is a pure function of
those. A claim the child could not finish, or failed on, is simply witnessed by the worker.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import resource
from collections.abc import Sequence
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess

from derive_check.derive.model.spec import ModelSpec
from derive_check.verify.witness.crosscheck import Said, claim_trees, said_of

MEMORY_LIMIT = 4 * 2**30  # bytes of address space for the child


class Ahead:
    """A child working out witness reports; `collect` takes what it has sent and stops it."""

    def __init__(self, child: BaseProcess, receive: Connection) -> None:
        self.child, self.receive = child, receive

    @staticmethod
    def start(models: Sequence[ModelSpec]) -> Ahead:
        """Fork the child for these models (in the order the workers will check them)."""
        context = multiprocessing.get_context("fork")
        receive, send = context.Pipe(duplex=False)
        child = context.Process(target=_work, args=(send, list(models)), daemon=True)
        child.start()
        send.close()
        return Ahead(child, receive)

    def collect(self) -> dict[int, dict[str, Said]]:
        """The reports sent so far, by the model's position and the claim's name; the child is stopped."""
        said: dict[int, dict[str, Said]] = {}
        with contextlib.suppress(EOFError, OSError):  # the child died or finished: what it sent is all there is
            while self.receive.poll():  # a message being written is read whole: the child is still alive here
                k, name, report = self.receive.recv()
                said.setdefault(k, {})[name] = report
        self.stop()
        return said

    def stop(self) -> None:
        """Stop the child (if it is still working) and release its pipe."""
        if self.child.is_alive():
            self.child.kill()
        self.child.join()
        self.receive.close()


def _work(send: Connection, models: list[ModelSpec]) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    for k, spec in enumerate(models):
        trees = claim_trees(spec)
        for claim in spec.claims:
            tree = trees.get(claim.name)
            if tree is None:
                continue
            try:
                report = said_of(spec, claim, tree, trees)
            except Exception:
                continue
            send.send((k, claim.name, report))
    send.close()
