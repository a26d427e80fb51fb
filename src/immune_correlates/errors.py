"""Exceptions and warnings raised by immune_correlates.

Every error is a :class:`ImmuneCorrelatesError`, itself a :class:`ValueError`,
so ``except ValueError`` keeps working in user code.  Messages name the file,
column, patient and value concerned and say what to do next.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

__all__ = [
    "ImmuneCorrelatesError",
    "InputError",
    "MissingDataError",
    "ModelError",
    "ConfigError",
    "ParameterError",
    "ImmuneCorrelatesWarning",
    "SeparationWarning",
    "MonotoneLikelihoodWarning",
    "MissingDataWarning",
    "ConvergenceWarning",
    "DataQualityWarning",
    "FormulaError",
    "SingularInformationWarning",
    "SingularFitWarning",
    "format_offenders",
    "combine_input_errors",
    "plain",
    "warn",
]

#: How many offending rows an error message lists before summarising the rest.
MAX_LISTED = 20


def plain(value: Any) -> Any:
    """A numpy scalar as the Python value it holds, so messages read ``2``, not ``np.int64(2)``."""
    item = getattr(value, "item", None)
    return item() if callable(item) and getattr(value, "ndim", None) == 0 else value


def format_offenders(rows: Iterable[Mapping[str, Any]], limit: int = MAX_LISTED) -> str:
    """Render offending rows as indented ``key=value`` lines, at most ``limit``.

    Parameters
    ----------
    rows : iterable of mappings
        One mapping per offending row, e.g. ``{"patient_id": "P01", "value": -3}``.
    limit : int
        How many rows to list before writing ``... and N more``.
    """
    rows = list(rows)
    lines = ["  - " + ", ".join(f"{k}={plain(v)!r}" for k, v in row.items()) for row in rows[:limit]]
    if len(rows) > limit:
        lines.append(f"  ... and {len(rows) - limit} more")
    return "\n".join(lines)


class ImmuneCorrelatesError(ValueError):
    """Base class of every error raised by immune_correlates."""


class InputError(ImmuneCorrelatesError):
    """An input table or file is invalid.

    Attributes
    ----------
    source : str
        The file name (or ``"<DataFrame>"`` label) of the offending table.
    column : str or None
        The offending column, when one column is at fault.
    rows : list of dict
        Every offending row (patient id, value, ...), not only the first.
    problems : tuple of InputError
        When one validation pass found several problems (see
        :func:`combine_input_errors`): each of them, with its own ``source``,
        ``column`` and ``rows``; empty for a single problem.
    """

    problems: tuple = ()

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        column: str | None = None,
        rows: Iterable[Mapping[str, Any]] = (),
        hint: str | None = None,
    ) -> None:
        self.source = source
        self.column = column
        self.rows = [dict(r) for r in rows]
        parts = []
        where = []
        if source:
            where.append(f"file {source!r}")
        if column:
            where.append(f"column {column!r}")
        head = f"{', '.join(where)}: {message}" if where else message
        parts.append(head)
        if self.rows:
            parts.append(format_offenders(self.rows))
        if hint:
            parts.append(hint)
        super().__init__("\n".join(parts))

    @property
    def first_line(self) -> str:
        """The message's first line, for one-line command-line errors."""
        if self.problems:
            rest = len(self.problems) - 1
            return (
                f"{self.problems[0].first_line} (+{rest} more problem{'s' if rest > 1 else ''}; see the full message)"
            )
        text = str(self)
        first = text.splitlines()[0] if text else ""
        if self.rows:
            row = self.rows[0]
            extra = ", ".join(f"{k}={plain(v)!r}" for k, v in row.items())
            more = f" (+{len(self.rows) - 1} more)" if len(self.rows) > 1 else ""
            return f"{first} {extra}{more}"
        return first


def combine_input_errors(problems: Iterable[InputError]) -> InputError:
    """One :class:`InputError` reporting every problem of one validation pass.

    Problems are grouped by file, then by column, each listing up to
    :data:`MAX_LISTED` rows and then a count. A single problem is returned
    unchanged. The combined error keeps ``problems``; its ``rows`` are every
    offending row with ``file`` and ``column`` added; its ``source`` and
    ``column`` are set only when all problems share them.

    Examples
    --------
    >>> a = InputError("values are not numbers", source="clinical.csv", column="alc", rows=[{"value": "n/a"}])
    >>> b = InputError("values are not one of M, F", source="clinical.csv", column="sex", rows=[{"value": "X"}])
    >>> print(combine_input_errors([a, b]).first_line)  # doctest: +ELLIPSIS
    file 'clinical.csv', column 'alc': values are not numbers value='n/a' (+1 more problem; ...)
    """
    problems = list(problems)
    if len(problems) == 1:
        return problems[0]
    files: dict = {}
    for p in problems:
        files.setdefault(p.source, []).append(p)
    lines = [f"{len(problems)} problems in the input tables; nothing was computed. Fix them all, then run again."]
    for source, group in files.items():
        lines.append(f"file {source!r}:" if source else "(no file):")
        columns: dict = {}
        for p in group:  # the columns in the order their first problem was found
            columns.setdefault(p.column, []).append(p)
        for p in (q for same in columns.values() for q in same):
            body = str(p).splitlines() or [""]
            head = body[0]
            for prefix in (f"file {source!r}, ", f"file {source!r}: "):
                if source and head.startswith(prefix):
                    head = head[len(prefix) :]
                    break
            lines.append("  " + head)
            lines.extend("  " + line for line in body[1:])
    combined = InputError("\n".join(lines))
    sources: set[str | None] = {p.source for p in problems}
    column_set: set[str | None] = {p.column for p in problems}
    combined.source = sources.pop() if len(sources) == 1 else None
    combined.column = column_set.pop() if len(column_set) == 1 else None
    combined.rows = [{"file": p.source, "column": p.column, **r} for p in problems for r in p.rows]
    combined.problems = tuple(problems)
    return combined


class MissingDataError(ImmuneCorrelatesError):
    """Rows with missing values were found and ``missing="raise"`` was asked."""


class ModelError(ImmuneCorrelatesError):
    """A model cannot be fitted to these data (no events, one outcome class, ...)."""


class ConfigError(ImmuneCorrelatesError):
    """An analysis configuration (TOML file or dict) is invalid."""


class ParameterError(ImmuneCorrelatesError):
    """A function argument (not the data) is invalid: it names the parameter, the value and what is allowed.

    Bad data (a column, a patient's value) raise :class:`InputError` instead.
    """


class ImmuneCorrelatesWarning(UserWarning):
    """Base class of every warning issued by immune_correlates."""


class SeparationWarning(ImmuneCorrelatesWarning):
    """Maximum likelihood estimates are infinite: the data are separated."""


class MonotoneLikelihoodWarning(ImmuneCorrelatesWarning):
    """A Cox partial likelihood increases without bound in some coefficient."""


class MissingDataWarning(ImmuneCorrelatesWarning):
    """Rows were left out of an analysis because of missing values."""


class ConvergenceWarning(ImmuneCorrelatesWarning):
    """An iterative fit stopped before meeting its convergence criterion."""


class DataQualityWarning(ImmuneCorrelatesWarning):
    """Values were flagged by a quality rule (too few events, background above signal, ...)."""


class SingularInformationWarning(ImmuneCorrelatesWarning):
    """An information matrix is singular: some terms are aliased; their standard errors are NaN."""


class SingularFitWarning(ImmuneCorrelatesWarning):
    """A mixed model's variance parameters are on the boundary: a variance estimated as 0 or a correlation as +-1."""


def warn(message: str, category: type[Warning]) -> None:
    """Issue a warning attributed to the user's line, not to a line inside this package.

    The stack level is the first frame outside ``immune_correlates`` (Python
    3.12's ``skip_file_prefixes`` does the same), so notebooks show the call
    that caused the warning.
    """
    import os
    import sys
    import types
    import warnings

    package = os.path.dirname(os.path.abspath(__file__))
    level, frame = 2, sys._getframe(1)  # stacklevel 2 is warn()'s caller
    frame_or_none: types.FrameType | None = frame
    while frame_or_none is not None and os.path.abspath(frame_or_none.f_code.co_filename).startswith(package + os.sep):
        frame_or_none = frame_or_none.f_back
        level += 1
    warnings.warn(message, category, stacklevel=level)


class FormulaError(InputError):
    """A model formula cannot be used: bad syntax, unknown column, or something other than data."""
