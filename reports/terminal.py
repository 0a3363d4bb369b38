"""The terminal report: one table per file, details under each failure, a summary line.

Renderers return rich renderables and strings; they never print or write
files (the CLI does), so tests can render to a string console and compare.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rich.console import Group, RenderableType
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from derive_check.verify.results import ClaimResult, FileResult, Verdict

STYLE = {
    Verdict.PROVED: "bold green",
    Verdict.PROBABLE: "bold cyan",
    Verdict.UNDECIDED: "bold yellow",
    Verdict.REFUTED: "bold red",
    Verdict.SHAPE_ERROR: "bold magenta",
    Verdict.ERROR: "bold red reverse",
    Verdict.INCONSISTENT: "bold white on red",
}


def render_files(results: Sequence[FileResult], timings: bool = True, verbose: bool = False) -> list[RenderableType]:
    """Everything the terminal shows, file by file."""
    out: list[RenderableType] = []
    for result in results:
        out.extend(render_file(result, timings, verbose))
    return out


def render_file(result: FileResult, timings: bool = True, verbose: bool = False) -> list[RenderableType]:
    """The table and failure details of one file."""
    sizes = ", ".join(f"{k}={v}" for k, v in result.sizes)
    heading = Text.assemble((result.title, "bold"), f"  ({result.file}" + (f"; {sizes})" if sizes else ")"))
    if result.source:
        heading.append(f"\nsource: {result.source}", style="dim")
    if result.error:
        return [heading, _unwrapped(result.error, "red"), Text("")]
    table = Table(show_edge=False, pad_edge=False, expand=False)
    table.add_column("claim", style="cyan", no_wrap=True)
    table.add_column("verdict", no_wrap=True)
    table.add_column("entries", justify="right")
    table.add_column("sizes", no_wrap=True)
    if timings:
        table.add_column("time", justify="right")
    table.add_column("why")
    for claim in result.claims:
        row: list[str | Text] = [
            Text(claim.name),
            Text(claim.verdict.label, style=STYLE[claim.verdict]),
            str(claim.entries),
        ]
        row.append(claim.scope)
        if timings:
            row.append(f"{claim.seconds:.2f} s")
        row.append(escape(claim.diagnosis or claim.message))
        table.add_row(*row)
    details: list[RenderableType] = []
    for claim in result.claims:
        if claim.read_as:
            details.append(Text(f"{claim.name}: LaTeX read as {claim.read_as}", style="dim"))
        if claim.intent and claim.verdict is Verdict.PROVED:  # which of several readings (failures say it below)
            details.append(Text(f"{claim.name}: {claim.reading_heading}: {claim.reading}", style="dim"))
        if claim.verdict.passed and claim.general and not claim.general.proved:
            details.append(Text(f"{claim.name}: at the stated sizes only; {claim.general.summary}", style="dim"))
        if claim.verdict is not Verdict.PROVED:
            if not (claim.verdict is Verdict.ERROR and claim.detail):  # an input error is said once, by its caret
                details.extend(_details(result.file, claim, verbose))
            if claim.detail:  # file:line: error + source + caret, outside the panel: never cropped or wrapped
                details.append(_unwrapped(claim.detail))
    notes = [Text(f"note: {n}", style="yellow") for n in result.notes]
    return [heading, table, *details, *notes, Text("")]


def _details(file: str, claim: ClaimResult, verbose: bool = False) -> list[RenderableType]:
    """A panel with what went wrong, then the counterexample's arrays outside it (so they copy as they are)."""
    lines: list[RenderableType] = [Text(f"{file}:{claim.line or 0}: {claim.name} = {claim.formula}", style="dim")]
    if claim.source:
        lines.append(Text(f"source: {claim.source}", style="dim"))
    lines.append(Text(claim.message))
    if claim.departs:
        lines.append(Text.assemble(("where: ", "bold"), claim.departs))
    if claim.reading:
        lines.append(Text(f"{claim.reading_heading}: {claim.reading}", style="dim"))
    if claim.read_as:
        lines.append(Text(f"LaTeX read as: {claim.read_as}", style="dim"))
    if claim.diagnosis:
        lines.append(Text.assemble(("diagnosis: ", "bold"), claim.diagnosis))
        if claim.residual:
            where = "for every size" if claim.residual_scope == "all" else "at the stated sizes"
            lines.append(
                Text.assemble((f"{claim.name} - {claim.derivative} = ", "bold"), claim.residual, f"  (PROVED {where})")
            )
        if claim.corrected:
            scope = " for every size" if claim.residual_scope == "all" else " at the stated sizes"
            lines.append(Text.assemble((f"corrected formula, PROVED{scope}: ", "bold green"), claim.corrected))
    cx = claim.counterexample
    after: list[RenderableType] = []
    if cx is not None:
        lines.append(
            Text.assemble(("counterexample: ", "bold"), f"{cx.entry}: true {cx.true_value}, claimed {cx.claimed_value}")
        )
        if cx.oracle_value is not None and cx.oracle_claim is not None:
            lines.append(
                Text(
                    f"numpy oracle (central differences, float64): true {cx.oracle_value:.10g}, "
                    f"claimed {cx.oracle_claim:.10g}"
                )
            )
        where = "at these labels" if cx.labels else "at this point"
        if verbose:
            lines.append(Text(f"exact residual (true - claimed) of {cx.entry} {where}: {cx.residual}", style="dim"))
        lines.append(Text(f"the point, as numpy arrays below ({cx.labels})" if cx.labels else "the point below"))
        after.append(_unwrapped(f"{claim.name}: the counterexample's point, to paste into numpy:", "dim"))
        after.extend(_unwrapped(f"  {name} = {literal}") for name, literal in cx.point)
    title = f"{claim.name}: {claim.verdict.label}"
    panel = Panel(Group(*lines), title=Text(title), title_align="left", border_style=STYLE[claim.verdict].split()[-1])
    return [panel, *after]


def _unwrapped(text: str, style: str = "") -> Text:
    """Text that is never wrapped: `file:line:` headers, caret lines and arrays must stay intact."""
    return Text(text, style=style, no_wrap=True, overflow="ignore")


ASCII = {
    **dict.fromkeys("─━═╌╍┄┅", "-"),
    **dict.fromkeys("│┃║╎╏┆┇", "|"),
    **dict.fromkeys("╭╮╰╯┌┐└┘┏┓┗┛┡┩╇╈┼├┤┬┴╪╫╋┣┫┳┻╞╡╤╧", "+"),
    "Σ": "sum",
    "δ": "delta",
    "∂": "d",
    "≥": ">=",
    "≤": "<=",
    "≠": "!=",
    "−": "-",
    "·": "*",
    "×": "x",
    "→": "->",
    "…": "...",
    "²": "^2",
    "ᵀ": "^T",
    "σ": "sigma",
    "√": "sqrt",
}


def ascii_text(text: str) -> str:
    """The report for a stream that cannot encode Unicode: box lines as - | +, symbols spelled out, the rest '?'."""
    return "".join(ASCII.get(c, c) for c in text).encode("ascii", errors="replace").decode("ascii")


def counts(results: Iterable[FileResult]) -> tuple[int, int]:
    """(claims proved, claims not proved); a file that failed to load counts as one failure."""
    passed = failed = 0
    for result in results:
        if result.error:
            failed += 1
        for claim in result.claims:
            passed += claim.verdict.passed
            failed += not claim.verdict.passed
    return passed, failed


def summary_line(results: Sequence[FileResult]) -> str:
    """The final plain line: 'N passed, N failed'."""
    passed, failed = counts(results)
    return f"{passed} passed, {failed} failed"
