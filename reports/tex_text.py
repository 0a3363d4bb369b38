"""Text from sources and results made safe for LaTeX: specials escaped, Unicode mathematics mapped.

pdflatex from texlive-latex-base has no Unicode mathematics and no CJK fonts: the symbols the seed documents use
(∂, ᵀ, ⊙, ŷ, λ, …) are mapped to LaTeX commands, anything else outside ASCII becomes '?', and Chinese text is
marked as omitted rather than breaking the build.
"""

from __future__ import annotations

import re

_UNICODE = {
    "∂": r"$\partial$",
    "ᵀ": r"$^{\mathsf T}$",
    "⊙": r"$\odot$",
    "·": r"$\cdot$",
    "−": "-",
    "×": r"$\times$",
    "Σ": r"$\Sigma$",
    "λ": r"$\lambda$",
    "η": r"$\eta$",
    "δ": r"$\delta$",
    "Θ": r"$\Theta$",
    "σ": r"$\sigma$",
    "ŷ": r"$\hat{y}$",
    "Ŷ": r"$\hat{Y}$",
    "≠": r"$\neq$",
    "≤": r"$\leq$",
    "≥": r"$\geq$",
    "∈": r"$\in$",
    "←": r"$\leftarrow$",
    "→": r"$\to$",
    "∴": r"$\therefore$",
    "‖": r"$\|$",
    "²": r"$^2$",
    "₁": r"$_1$",
    "₂": r"$_2$",
    "′": "'",
    "…": r"\ldots{}",
    "“": "``",
    "”": "''",
    "‘": "`",
    "’": "'",
    "—": "---",
    "–": "--",
    "ℝ": r"$\mathbb{R}$",
    "ⁱ": r"$^i$",
    "⁽": "(",
    "⁾": ")",
    "°": r"$^\circ$",
    "①": "(1)",
    "②": "(2)",
    "§": r"\S{}",
    "½": r"$\frac12$",
    "√": r"$\surd$",
    "≈": r"$\approx$",
    "∇": r"$\nabla$",
}
_SPECIAL = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "$": r"\$",
    "&": r"\&",
    "#": r"\#",
    "%": r"\%",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
}


def tex_text(text: str) -> str:
    """Plain text made safe for LaTeX: specials escaped, Unicode mathematics mapped, CJK marked as omitted."""
    text = re.sub(r"[\u3000-\u9fff\uff00-\uffef]+", " [Chinese text] ", text)
    out = []
    for ch in text:
        if ch in _SPECIAL:
            out.append(_SPECIAL[ch])
        elif ch in _UNICODE:
            out.append(_UNICODE[ch])
        elif ord(ch) < 128:
            out.append(ch)
        else:
            out.append("?")
    return re.sub(r"\s+", " ", "".join(out)).strip()


def tt(text: str) -> str:
    """Code in typewriter type that may break after commas and operators."""
    return r"\texttt{" + re.sub(r"(, |\+ |@ |- |\* |/ |\\_)", r"\1\\allowbreak{}", tex_text(text)) + "}"
