"""How invented and declared symbols read: a `Label` per symbol, kept as structure.

The exact engine names every symbol it invents after what it stands for (`W1[0,2]`, `mask(h1)[0,1]`,
`exp(scores[0,1])`, `f'(z1[0,0])`, `dL/dy[2,0]`): SymPy symbols with equal names are equal, so the name is the
identity, and it is what text output shows. The name is printed from the label, and so is the LaTeX, so nothing
is ever parsed back out of a name. Only a plain-text label (an entry label of a result, a cut's symbol) goes
through `symbol_latex`, which reads the one format `name[i,j]`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from derive_check.derive.ops.table import OPS
from derive_check.derive.printing.names import name_latex


@dataclass(frozen=True)
class Label:
    """What a symbol stands for, for reading."""

    kind: str  # "entry" name[index]; "apply" op(of); "mask"; "call" name'(of); "partial"; "text"; "number"
    name: str
    index: tuple[int, ...] = ()
    of: Label | None = None
    primes: int = 0
    tex: str = ""  # a "number" label's LaTeX (a constant argument such as 2/pi)

    def text(self) -> str:
        """The symbol's name: what identifies it, and what text reports show."""
        inner = self.of.text() if self.of is not None else ""
        where = ",".join(map(str, self.index))
        if self.kind == "entry":
            return f"{self.name}[{where}]" if self.index else self.name
        if self.kind == "apply":
            return f"{self.name}({inner})"
        if self.kind == "mask":
            return f"mask({self.name})[{where}]"
        if self.kind == "call":
            return f"{self.name}{chr(39) * self.primes}({inner})"
        if self.kind == "partial":
            return f"d{self.name}/d{inner}"
        return self.name

    def latex(self) -> str:
        """The symbol in LaTeX."""
        inner = self.of.latex() if self.of is not None else ""
        where = ",".join(map(str, self.index))
        if self.kind == "entry":
            return rf"{{{name_latex(self.name)}}}_{{{where}}}" if self.index else name_latex(self.name)
        if self.kind == "apply":
            if self.name == "exp":
                return rf"e^{{{inner}}}"
            form = OPS[self.name].latex
            return form.template.format(inner) if form.template else rf"\operatorname{{{self.name}}}({inner})"
        if self.kind == "mask":
            return rf"\mathbf{{1}}[{{{name_latex(self.name)}}}_{{{where}}} > 0]"
        if self.kind == "call":
            return rf"{name_latex(self.name)}{chr(39) * self.primes}({inner})"
        if self.kind == "partial":
            return rf"\partial {name_latex(self.name)} / \partial {inner}"
        if self.kind == "number":
            return self.tex
        return symbol_latex(self.name)

    def without(self, mark: str) -> Label:
        """The same label with `mark` removed from every name in it (a cut's symbols, transported back)."""
        of = self.of.without(mark) if self.of is not None else None
        return replace(self, name=self.name.replace(mark, ""), of=of)


def symbol_latex(name: str) -> str:
    """The LaTeX of a plain-text label: an entry `W1[0,2]`, an identifier, or anything else in typewriter type."""
    entry = re.fullmatch(r"([A-Za-z_]\w*)(~)?\[([\d,]+)\]", name)
    if entry:
        return rf"{{{name_latex(entry.group(1))}}}_{{{entry.group(3)}}}"
    if re.fullmatch(r"[A-Za-z_]\w*", name):
        return name_latex(name)
    return r"\texttt{" + re.sub(r"([#$%&_{}])", r"\\\1", name).replace("~", r"\textasciitilde{}") + "}"
