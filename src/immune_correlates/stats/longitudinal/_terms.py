"""lme4's random-effects syntax: split a formula into its fixed part and ``(lhs | group)`` terms.

``y ~ day * arm + (1 + day | patient_id)`` becomes the fixed formula
``y ~ day * arm`` (built by the package's one design-matrix layer) and the
random terms, expanded as ``lme4`` does (``findbars``/``expandDoubleVerts``):

- ``(x || g)`` is ``(1 | g) + (0 + x | g)``: one uncorrelated term per model
  term of the left side;
- ``(1 | a/b)`` is ``(1 | b:a) + (1 | a)`` (and ``a/b/c`` is ``c:b:a``,
  ``b:a``, ``a``); ``a:b`` is the grouping factor of the combinations of
  ``a`` and ``b`` present in the data;
- terms are ordered as ``lme4::mkReTrms`` orders them: by decreasing number
  of levels when some later term has more levels than an earlier one.

The left side of a term is a formula right side (``1``, ``day``, ``0 + day``,
``day + I(day**2)``): its model matrix comes from the design-matrix layer, so
columns are named as the fixed effects are (``Intercept``, ``day``).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ...errors import FormulaError, ModelError

__all__ = ["Bar", "RandomTerm", "split_random", "expand_bars", "grouping_columns", "random_terms"]

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")


@dataclass(frozen=True)
class Bar:
    """One random-effects term after expansion: ``(lhs | group)`` with ``group`` a tuple of columns."""

    lhs: str
    group: tuple[str, ...]  # ("b", "a") for the grouping factor b:a

    @property
    def label(self) -> str:
        return ":".join(self.group)


@dataclass(frozen=True, eq=False)
class RandomTerm:
    """A random-effects term evaluated on the rows used.

    ``Z`` holds the term's covariates (``n x nc``: ``Intercept``, ``day``);
    ``codes`` the level of the grouping factor of each row (0-based) and
    ``levels`` their labels.
    """

    group: str
    columns: tuple[str, ...]
    Z: np.ndarray
    codes: np.ndarray
    levels: tuple[str, ...]

    @property
    def nc(self) -> int:
        return len(self.columns)

    @property
    def nl(self) -> int:
        return len(self.levels)


def _top_level_split(text: str, sep: str) -> list[str]:
    """Split ``text`` at ``sep`` outside parentheses and brackets."""
    out, depth, start, i = [], 0, 0, 0
    while i < len(text):
        ch = text[i]
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif depth == 0 and text.startswith(sep, i):
            out.append(text[start:i])
            start = i + len(sep)
            i += len(sep)
            continue
        i += 1
    out.append(text[start:])
    return out


def _is_wrapped(piece: str) -> bool:
    """``(...)`` whose opening parenthesis closes at the very end."""
    piece = piece.strip()
    if not (piece.startswith("(") and piece.endswith(")")):
        return False
    depth = 0
    for i, ch in enumerate(piece):
        depth += ch == "("
        depth -= ch == ")"
        if depth == 0 and i < len(piece) - 1:
            return False
    return True


def split_random(formula: str, *, caller: str) -> tuple[str, str, list[tuple[str, str, bool]]]:
    """``(left side, fixed right side, [(lhs, group, double_bar), ...])`` of an lme4 formula.

    Examples
    --------
    >>> split_random("y ~ day * arm + (1 + day | patient_id)", caller="demo")
    ('y', 'day * arm', [('1 + day', 'patient_id', False)])
    >>> split_random("y ~ (day || id)", caller="demo")
    ('y', '1', [('day', 'id', True)])
    """
    if not isinstance(formula, str) or formula.count("~") != 1:
        raise FormulaError(
            f"{caller}: formula must be a string with one '~' between the outcome and the terms, got {formula!r}.",
            hint='Example: "cd8_per_ul ~ day * responder + (1 | patient_id)".',
        )
    left, right = (part.strip() for part in formula.split("~"))
    fixed, bars = [], []
    for piece in _top_level_split(right, "+"):
        text = piece.strip()
        if _is_wrapped(text) and "|" in text:
            inner = text[1:-1]
            double = _top_level_split(inner, "||")
            parts, is_double = (double, True) if len(double) == 2 else (_top_level_split(inner, "|"), False)
            if len(parts) != 2 or not parts[0].strip() or not parts[1].strip():
                raise FormulaError(
                    f"{caller}: cannot read the random-effects term {text!r}; write (terms | group), e.g. "
                    "(1 | patient_id), (1 + day | patient_id) or (day || patient_id)."
                )
            bars.append((parts[0].strip(), parts[1].strip(), is_double))
        elif "|" in text:
            raise FormulaError(
                f"{caller}: the term {text!r} has a '|' outside parentheses; random effects are written "
                "(terms | group), each in its own parentheses, added to the fixed terms with '+'."
            )
        elif text:
            fixed.append(text)
    return left, (" + ".join(fixed) if fixed else "1"), bars


def _group_columns(group: str, columns, caller: str) -> list[tuple[str, ...]]:
    """Grouping factors of ``a``, ``a:b`` or ``a/b`` (lme4's order: ``b:a`` then ``a``)."""
    nested = [part.strip() for part in group.split("/")]
    factors = []
    for part in nested:
        names = tuple(name.strip() for name in part.split(":"))
        for name in names:
            if not _NAME.match(name) or name not in columns:
                raise FormulaError(
                    f"{caller}: the grouping factor {group!r} names {name!r}, which is not a column of the data.",
                    hint=f"Columns: {list(columns)}.",
                )
        factors.append(names)
    out = []
    for depth in range(len(factors), 0, -1):  # a/b/c -> c:b:a, b:a, a
        out.append(tuple(name for part in reversed(factors[:depth]) for name in part))
    return out


def expand_bars(bars: list[tuple[str, str, bool]], columns, *, caller: str) -> list[Bar]:
    """lme4's expansion of ``||`` and ``/`` (in its order), before terms are reordered by levels."""
    from formulaic import Formula
    from formulaic.errors import FormulaicError

    out: list[Bar] = []
    for lhs, group, double in bars:
        if double:
            try:
                terms = [str(t) for t in Formula(lhs)]
            except (FormulaicError, SyntaxError, ValueError) as e:
                raise FormulaError(f"{caller}: cannot parse the random-effects terms {lhs!r} ({e}).") from e
            pieces = (["1"] if "1" in terms else []) + [f"0 + {t}" for t in terms if t != "1"]
        else:
            pieces = [lhs]
        for piece in pieces:
            out.extend(Bar(piece, g) for g in _group_columns(group, columns, caller))
    return out


def grouping_columns(bars: list[Bar]) -> list[str]:
    """The data columns the grouping factors use, in order of appearance."""
    return list(dict.fromkeys(name for bar in bars for name in bar.group))


def _codes(rows: pd.DataFrame, group: tuple[str, ...]) -> tuple[np.ndarray, tuple[str, ...]]:
    """Level index of each row of the grouping factor ``group`` (levels in code-point order)."""
    labels = rows[list(group)].astype(str).agg(":".join, axis=1) if len(group) > 1 else rows[group[0]].astype(str)
    levels, codes = np.unique(labels.to_numpy(dtype=str), return_inverse=True)
    return codes.astype(np.int64), tuple(str(v) for v in levels)


def random_terms(rows: pd.DataFrame, bars: list[Bar], matrices: list, *, caller: str) -> list[RandomTerm]:
    """Evaluate the terms on the rows used and order them as ``lme4::mkReTrms`` does.

    ``matrices[i]`` is the design (``X``, ``names``) of ``bars[i].lhs``.
    """
    terms = []
    for bar, design in zip(bars, matrices):
        codes, levels = _codes(rows, bar.group)
        if len(levels) < 2:
            raise ModelError(
                f"{caller}: the grouping factor {bar.label!r} has {len(levels)} level among the rows used; "
                "a random effect needs at least 2 groups (lme4: 'grouping factors must have > 1 sampled level')."
            )
        if len(levels) >= len(rows):
            raise ModelError(
                f"{caller}: the grouping factor {bar.label!r} has as many levels ({len(levels)}) as there are rows "
                f"({len(rows)}): its variance cannot be told apart from the residual variance "
                "(lme4: 'number of levels of each grouping factor must be < number of observations')."
            )
        if design.X.shape[1] == 0:
            raise FormulaError(f"{caller}: the random-effects term ({bar.lhs} | {bar.label}) has no column.")
        terms.append(RandomTerm(bar.label, tuple(design.names), design.X, codes, levels))
    nl = [t.nl for t in terms]
    if any(b > a for a, b in itertools.pairwise(nl)):  # rev(order(nl)): decreasing, ties in reverse order
        order = np.argsort(nl, kind="stable")[::-1]
        terms = [terms[i] for i in order]
    for t in terms:
        if t.nc * t.nl >= len(rows):
            raise ModelError(
                f"{caller}: the term ({' + '.join(t.columns)} | {t.group}) has {t.nc * t.nl} random effects for "
                f"{len(rows)} rows; they cannot be told apart from the residual (lme4: 'number of observations "
                "<= number of random effects'). Simplify the random-effects terms."
            )
    return terms
