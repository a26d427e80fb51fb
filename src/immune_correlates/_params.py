"""Declared argument checks: one mechanism for every public function.

Each public function declares what its options may be, next to its
signature, instead of hand-written ``if ... raise`` blocks (the idea of
scikit-learn's ``_parameter_constraints``)::

    @check_params(conf_type=Options("log", "log-log", "plain"), alpha=Interval(0, 1, closed="neither"))
    def kaplan_meier(data, duration, event, group=None, *, conf_type="log", alpha=0.05): ...

A call with a value that satisfies none of a parameter's constraints raises
:class:`~immune_correlates.errors.ParameterError` naming the function, the
parameter, the value given and what is allowed.  Checks are about the
arguments themselves; problems in the data (a column, a patient's value)
remain :class:`~immune_correlates.errors.InputError`.  The declared
constraints are kept on the function as ``__parameter_constraints__``.
"""

from __future__ import annotations

import functools
import inspect
import numbers
import os
from collections.abc import Callable, Mapping

import numpy as np

from .errors import ParameterError, plain

__all__ = [
    "Constraint",
    "Options",
    "Interval",
    "Instance",
    "Columns",
    "ListLike",
    "HasAttributes",
    "check_params",
    "validate",
    "ALPHA",
    "MISSING",
    "SEED",
    "METHOD",
    "CI",
    "COLUMN",
    "OPTIONAL_COLUMN",
    "FORMULA",
    "MAX_ITER",
    "TOL",
    "N_JOBS",
    "FLAG",
    "COLUMNS",
    "OPTIONAL_COLUMNS",
    "TEXT",
    "MAPPING",
    "SEQUENCE",
    "AXES",
    "PATH",
    "NUMBER",
    "POSITIVE",
    "COUNT",
    "PROPORTION",
    "COLORS",
    "COLOR",
]


class Constraint:
    """One allowed kind of value: ``accepts(value)`` and a description for messages."""

    def accepts(self, value) -> bool:  # pragma: no cover - every subclass overrides
        raise NotImplementedError

    def describe(self) -> str:  # pragma: no cover - every subclass overrides
        raise NotImplementedError


class Options(Constraint):
    """One of a fixed set of values (compared with ``==``; ``None`` may be one of them).

    >>> Options("ml", "firth").describe()
    "one of 'ml', 'firth'"
    """

    def __init__(self, *values) -> None:
        self.values = values

    def accepts(self, value) -> bool:
        try:
            return any(value is v or (v is not None and type(value) is not bool and value == v) for v in self.values)
        except (TypeError, ValueError):
            return False

    def describe(self) -> str:
        return "one of " + ", ".join(repr(v) for v in self.values)


class Interval(Constraint):
    """A real (or, with ``integer=True``, an integer) number in an interval; booleans are refused.

    ``closed`` is ``"both"``, ``"left"``, ``"right"`` or ``"neither"``; a bound of ``None`` is unbounded.

    >>> Interval(0, 1, closed="neither").accepts(0.05), Interval(0, 1, closed="neither").accepts(1)
    (True, False)
    >>> Interval(1, None, integer=True).describe()
    'an integer >= 1'
    """

    def __init__(self, low=None, high=None, *, closed: str = "both", integer: bool = False) -> None:
        if closed not in ("both", "left", "right", "neither"):
            raise ValueError(f"Interval: closed must be 'both', 'left', 'right' or 'neither', got {closed!r}")
        self.low, self.high, self.closed, self.integer = low, high, closed, integer

    def accepts(self, value) -> bool:
        kind = numbers.Integral if self.integer else numbers.Real
        if isinstance(value, bool) or not isinstance(value, kind):
            return False
        if value != value:  # NaN
            return False
        below = self.low is not None and (
            value < self.low or (value == self.low and self.closed in ("right", "neither"))
        )
        above = self.high is not None and (
            value > self.high or (value == self.high and self.closed in ("left", "neither"))
        )
        return not (below or above)

    def describe(self) -> str:
        what = "an integer" if self.integer else "a number"
        lo_in = self.closed in ("both", "left")
        hi_in = self.closed in ("both", "right")
        if self.low is not None and self.high is not None:
            return f"{what} in {'[' if lo_in else '('}{self.low}, {self.high}{']' if hi_in else ')'}"
        if self.low is not None:
            return f"{what} {'>=' if lo_in else '>'} {self.low}"
        if self.high is not None:
            return f"{what} {'<=' if hi_in else '<'} {self.high}"
        return what


class Instance(Constraint):
    """An instance of one of the given types (``bool`` is never taken for a number).

    >>> Instance(bool).accepts(True), Instance(int).accepts(True)
    (True, False)
    """

    def __init__(self, *types: type, name: str | None = None) -> None:
        self.types, self.name = types, name

    def accepts(self, value) -> bool:
        if isinstance(value, bool) and bool not in self.types:
            return False
        return isinstance(value, self.types)

    def describe(self) -> str:
        return self.name or ("an instance of " + " or ".join(t.__name__ for t in self.types))


class Columns(Constraint):
    """A column name, or a sequence of them (a list, tuple, pandas Index or array of names).

    >>> Columns().accepts("age"), Columns().accepts(["age", "sex"]), Columns().accepts(3)
    (True, True, False)
    """

    def accepts(self, value) -> bool:
        if isinstance(value, str):
            return True
        if isinstance(value, (list, tuple)) or type(value).__name__ in ("Index", "ndarray", "Series"):
            return all(isinstance(v, str) for v in value)
        return False

    def describe(self) -> str:
        return "a column name or a list of column names"


class ListLike(Constraint):
    """A sequence of values that is not text: a list, tuple, range, numpy array or pandas Index/Series.

    >>> ListLike().accepts([1, 2]), ListLike().accepts("ab"), ListLike().accepts({"a": 1})
    (True, False, False)
    """

    def __init__(self, name: str = "a list of values") -> None:
        self.name = name

    def accepts(self, value) -> bool:
        if isinstance(value, (str, bytes, Mapping)):
            return False
        return isinstance(value, (list, tuple, range, np.ndarray)) or type(value).__name__ in ("Index", "Series")

    def describe(self) -> str:
        return self.name


class HasAttributes(Constraint):
    """An object with the given attributes (duck typing where importing the class would make a cycle).

    >>> HasAttributes("params", name="a fitted model").accepts(3)
    False
    """

    def __init__(self, *attributes: str, name: str) -> None:
        self.attributes, self.name = attributes, name

    def accepts(self, value) -> bool:
        return all(hasattr(value, a) for a in self.attributes)

    def describe(self) -> str:
        return self.name


def _as_constraints(spec) -> tuple[Constraint, ...]:
    if isinstance(spec, Constraint):
        return (spec,)
    if isinstance(spec, tuple) and all(isinstance(c, Constraint) for c in spec):
        return spec
    raise TypeError(f"check_params: a constraint must be a Constraint or a tuple of them, got {spec!r}")


def validate(caller: str, name: str, value, spec) -> None:
    """Raise :class:`ParameterError` unless ``value`` satisfies one of ``spec``'s constraints.

    >>> validate("f", "alpha", 2, Interval(0, 1, closed="neither"))
    Traceback (most recent call last):
    ...
    immune_correlates.errors.ParameterError: f: alpha=2 is not allowed; alpha must be a number in (0, 1).
    """
    constraints = _as_constraints(spec)
    if any(c.accepts(value) for c in constraints):
        return
    allowed = " or ".join(c.describe() for c in constraints)
    raise ParameterError(f"{caller}: {name}={plain(value)!r} is not allowed; {name} must be {allowed}.")


def check_params(**constraints) -> Callable:
    """Decorator: check the named arguments of every call against their declared constraints.

    Parameters
    ----------
    **constraints
        ``parameter=Constraint`` or ``parameter=(Constraint, Constraint, ...)``
        (a value must satisfy at least one).

    Examples
    --------
    >>> @check_params(method=Options("ml", "firth"), alpha=Interval(0, 1, closed="neither"))
    ... def fit(data, *, method="ml", alpha=0.05):
    ...     return method
    >>> fit(None, method="firth")
    'firth'
    >>> fit(None, method="bayes")
    Traceback (most recent call last):
    ...
    immune_correlates.errors.ParameterError: fit: method='bayes' is not allowed; method must be one of 'ml', 'firth'.
    """
    specs = {name: _as_constraints(spec) for name, spec in constraints.items()}

    def decorate(func: Callable) -> Callable:
        sig = inspect.signature(func)
        unknown = set(specs) - set(sig.parameters)
        if unknown:
            raise TypeError(f"check_params: {func.__name__} has no parameter(s) {sorted(unknown)}")

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            bound = sig.bind(*args, **kwargs)
            bound.apply_defaults()
            for name, spec in specs.items():
                validate(func.__name__, name, bound.arguments[name], spec)
            return func(*args, **kwargs)

        wrapper.__parameter_constraints__ = {  # type: ignore[attr-defined]  # read by the signature walk
            **getattr(func, "__parameter_constraints__", {}),
            **specs,
        }
        return wrapper

    return decorate


#: ``alpha`` of every test and interval: one minus the confidence level.
ALPHA = Interval(0, 1, closed="neither")
#: ``missing=`` of every function reading a data frame.
MISSING = Options("drop", "raise")
#: ``seed=``: None, a non-negative integer, a numpy SeedSequence or a numpy Generator (see ``_seeds``).
SEED = (
    Options(None),
    Interval(0, None, integer=True),
    Instance(
        np.random.SeedSequence,
        np.random.Generator,
        name="a numpy SeedSequence or Generator",
    ),
)
#: ``method=`` of every regression: maximum likelihood or Firth's penalized likelihood.
METHOD = Options("ml", "firth")
#: ``ci=`` of every likelihood model: the package's convention (profile, with likelihood-ratio p-values) or Wald.
CI = Options("profile", "wald")
#: A column named by a keyword option (``weights=``, ``cluster=``, ``entry=`` ...).
COLUMN = Instance(str, name="a column name")
OPTIONAL_COLUMN = (Options(None), COLUMN)
#: ``formula=``: a model formula, parsed (never run) by ``stats.regression.formula``.
FORMULA = (Options(None), Instance(str, name="a formula string"))
#: Iterations of a fit and its convergence tolerance.
MAX_ITER = Interval(1, None, integer=True)
TOL = Interval(0, None, closed="neither")
#: ``n_jobs=``: workers (``-1``: one per core).
N_JOBS = (Interval(1, None, integer=True), Options(-1))
#: An on/off switch.
FLAG = Instance(bool, np.bool_, name="True or False")
#: Column names given as one name or a list (``covariates=``, ``features=``, ``strata=`` ...).
COLUMNS = Columns()
OPTIONAL_COLUMNS = (Options(None), Columns())
#: A label or title (``None``: the default one).
TEXT = (Options(None), Instance(str, name="text"))
#: A mapping of names to labels, colours, units ... (``None``: none).
MAPPING = (Options(None), Instance(Mapping, name="a mapping (dict)"))
#: A list of values (times, levels, ...); ``None``: the default.
SEQUENCE = (Options(None), ListLike())
#: ``ax=`` of the plotting functions.
AXES = (Options(None), HasAttributes("plot", "get_figure", name="a matplotlib Axes"))
#: A file or directory.
PATH = (Options(None), Instance(str, os.PathLike, name="a path"))
#: Numbers.
NUMBER = Interval()
POSITIVE = Interval(0, None, closed="neither")
COUNT = Interval(0, None, integer=True)
PROPORTION = Interval(0, 1)
#: Colours of groups: a mapping by group, or a list in group order; one colour (a name, hex or RGB tuple).
COLORS = (Options(None), Instance(Mapping, name="a mapping of colours"), ListLike("a list of colours"))
COLOR = (Instance(str, name="a colour name or hex code"), Instance(tuple, name="an RGB(A) tuple"))
