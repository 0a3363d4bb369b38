"""From a derivation file to symbolic forms.

Sub-packages in the order data flows through them: `lang` (formula and LaTeX parsers, the expression tree),
`ops` (the op table: every facet of every operation), `model` (names, declarations, claims, symbolic shapes:
one resolved model per file), `exact` (the network at the file's sizes: atoms, backends, evaluation, cuts),
`index` (formulas in index notation with symbolic sizes), `printing` (trees back to text and LaTeX).
"""
