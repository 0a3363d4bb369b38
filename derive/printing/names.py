"""Identifiers as LaTeX: W1 -> W_{1}, yhat -> \\hat{y}, scores -> \\mathrm{scores}, lam -> \\lambda."""

from __future__ import annotations

import re

_GREEK = {
    "lam": r"\lambda",
    "lambda": r"\lambda",
    "eta": r"\eta",
    "alpha": r"\alpha",
    "delta": r"\delta",
    "theta": r"\theta",
    "Theta": r"\Theta",
    "sigma": r"\sigma",
}


def name_latex(name: str, bold: bool = False) -> str:
    """An identifier as LaTeX: W1 -> W_{1}, yhat -> \\hat{y}, scores -> \\mathrm{scores}, lam -> \\lambda."""
    match = re.fullmatch(r"([A-Za-z]+?)(hat)?_?(\d+)?", name)
    if not match:
        return r"\mathrm{" + name.replace("_", r"\_") + "}"
    stem, hat, digits = match.groups()
    if stem in _GREEK:
        core = _GREEK[stem]
    elif len(stem) == 1:
        core = r"\mathbf{" + stem + "}" if bold else stem
    else:
        core = r"\mathrm{" + stem + "}"
    if hat:
        core = r"\hat{" + core + "}"
    return core + (f"_{{{digits}}}" if digits else "")
