"""The API pass over every public function: options are keyword-only, declared, and checked alike.

A public function may take positionally only what it works on: the data
(``data``, ``cohort``, a result, arrays of values) and the names of the columns
it uses.  Everything else (method, alpha, missing, seed, ...) comes after the
``*`` so that ``kaplan_meier(df, "t", "e", "g", "log-log")`` cannot silently
mean something else when an option is added.  Every such option is declared
with ``@check_params`` (``__parameter_constraints__``), so that a bad value is
refused before anything runs with one ``ParameterError`` of one wording; the
test generates a value that no declared constraint accepts, for every option
of every public function.
"""

from __future__ import annotations

import inspect

import pytest

import immune_correlates as ic
from immune_correlates.errors import ParameterError

#: Parameter names that are data, results or column names: the only ones allowed before ``*``.
COLUMN_ARGUMENTS = {
    # data and results
    "data",
    "cohort",
    "clinical",
    "immunophenotype",
    "function_assays",
    "adverse_events",
    "frame",
    "table",
    "result",
    "results",
    "km",
    "curve",
    "fig",
    "corr",
    "design",
    "analysis",
    "panel",
    "samples",
    "values",
    "x",
    "y",
    "p",
    "q",
    "k",
    "n",
    "time",
    "stimulated",
    "unstimulated",
    "alc",
    "fraction_of_lymphocytes",
    "cell_events",
    "bead_events",
    "beads_per_tube",
    "sample_volume_ul",
    "et_ratios",
    "lysis",
    "text",
    "events",
    "export",
    "sample_map",
    "theta",
    "boot",
    "jack",
    "t_obs",
    "t_perm",
    "levels",
    "name",
    "X",
    "names",
    "timepoint",
    "effect",
    "path_stem",
    "times",
    "column",
    "counts",
    "path",
    "landmark",
    "landmarks",
    "status",
    "switch",
    "variables",
    "imputed",
    "estimates",
    "std_errors",
    "groups",
    # column names
    "duration",
    "event",
    "group",
    "outcome",
    "covariates",
    "features",
    "feature",
    "score",
    "readouts",
    "columns",
    "paths",
    "label",
    "by",
    "estimate",
    "lower",
    "upper",
    # the model of a repeated-measures fit and its cluster column
    "formula",
}

#: Deliberate exceptions: the option is the subject of the call, as ``pandas.cut(x, bins)``.
EXCEPTIONS = {"dichotomise": {"method"}, "fit_mixed": {"formula"}, "impute": {"m"}}  # impute(data, m=20): m imputations


def _public_functions():
    seen = {}
    modules = (("", ic), ("", ic.stats), ("plots.", ic.plots), ("", ic.features), ("", ic.design), ("", ic.data))
    for prefix, module in modules:
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isfunction(obj):
                key = prefix + name
                seen.setdefault(key, obj)
    return seen


def _positional_options(func) -> list[str]:
    sig = inspect.signature(func)
    return [
        p.name
        for p in sig.parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.name not in COLUMN_ARGUMENTS
    ]


FUNCTIONS = _public_functions()


def test_the_walk_covers_the_api():
    for name in (
        "kaplan_meier",
        "logrank_test",
        "compare_groups",
        "optimal_cutpoint",
        "power",
        "fit_logistic",
        "plots.kaplan_meier",
        "plots.roc",
        "roc_curve",
        "dichotomise",
        "fit_mixed",
    ):
        assert name in FUNCTIONS


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_options_after_the_column_arguments_are_keyword_only(name):
    offending = [o for o in _positional_options(FUNCTIONS[name]) if o not in EXCEPTIONS.get(name, ())]
    assert not offending, (
        f"{name}{inspect.signature(FUNCTIONS[name])}: {offending} should come after '*' "
        "(or, if they are data/column arguments, be named in COLUMN_ARGUMENTS)"
    )


#: Keyword-only parameters that are not options, with the reason (a leading underscore is never an option).
NOT_OPTIONS: dict[str, set[str]] = {}


def _keyword_options(func) -> list[str]:
    sig = inspect.signature(func)
    return [
        p.name
        for p in sig.parameters.values()
        if p.kind == p.KEYWORD_ONLY and not p.name.startswith("_") and p.name not in NOT_OPTIONS.get(func.__name__, ())
    ]


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_every_option_is_declared(name):
    func = FUNCTIONS[name]
    declared = getattr(func, "__parameter_constraints__", {})
    undeclared = [o for o in _keyword_options(func) if o not in declared]
    assert not undeclared, f"{name}: declare {undeclared} with @check_params (see immune_correlates._params)"


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_declared_constraints_accept_the_defaults(name):
    from immune_correlates._params import _as_constraints

    func = FUNCTIONS[name]
    sig = inspect.signature(func)
    for param, spec in getattr(func, "__parameter_constraints__", {}).items():
        default = sig.parameters[param].default
        if default is inspect.Parameter.empty:
            continue
        assert any(c.accepts(default) for c in _as_constraints(spec)), f"{name}: default {param}={default!r}"


_CANDIDATES = (object(), "no-such-option", -(10**9), 10**9, 2.5, -0.5, 0.5, True, None, [], {}, ("x", 1))


def _rejected(spec):
    """A value that none of the constraints accepts (None if every candidate is accepted by one)."""
    from immune_correlates._params import _as_constraints

    constraints = _as_constraints(spec)
    for value in _CANDIDATES:
        if not any(c.accepts(value) for c in constraints):
            return value
    return None


def _imputed():
    import numpy as np
    import pandas as pd

    return ic.impute(pd.DataFrame({"a": [1.0, 2, np.nan, 4, 5, 6], "b": [1.0, 0, 1, 0, np.nan, 1]}), m=2, seed=1)


#: Example values of required subject arguments that no simple value stands for.
EXAMPLES = {"imputed": _imputed}


def _example(spec, name=""):
    """A value one of the constraints accepts, for a required declared argument (or empty)."""
    if name in EXAMPLES:
        return (EXAMPLES[name](),)
    from immune_correlates._params import Columns, Instance, Interval, ListLike, Options, _as_constraints

    candidates = ["x", 1, 0.5, True, [], {}, len]
    for c in _as_constraints(spec):
        if isinstance(c, Options) and c.values:
            return (c.values[0],)
        if isinstance(c, Interval):
            return (c.low + 1 if c.low is not None else 1,)
        if isinstance(c, (Columns, ListLike, Instance)):
            for value in candidates:
                if c.accepts(value):
                    return (value,)
    return ()


def _bad_calls():
    for name, func in sorted(FUNCTIONS.items()):
        declared = getattr(func, "__parameter_constraints__", {})
        for param in sorted(declared):
            yield pytest.param(name, param, id=f"{name}-{param}")


@pytest.mark.parametrize("name, param", list(_bad_calls()))
def test_a_bad_option_raises_one_parameter_error(name, param):
    """Every declared argument of every public function: a value no constraint accepts is refused with
    ``ParameterError`` in the one wording, before the function does anything (positional data are dummies)."""
    func = FUNCTIONS[name]
    declared = func.__parameter_constraints__
    bad = _rejected(declared[param])
    if bad is None:
        pytest.skip(f"{param} accepts every candidate value")
    sig = inspect.signature(func)
    args, kwargs = [], {}
    for p in sig.parameters.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        if p.name == param:
            value = (bad,)
        elif p.default is not inspect.Parameter.empty:
            continue
        else:
            value = _example(declared[p.name], p.name) if p.name in declared else (None,)
            if not value:
                pytest.skip(f"no example value for the required argument {p.name}")
        if p.kind == p.KEYWORD_ONLY or (p.default is not inspect.Parameter.empty and p.name == param):
            kwargs[p.name] = value[0]
        else:
            args.append(value[0])
    with pytest.raises(ParameterError, match=rf"^{func.__name__}: {param}=.* is not allowed; {param} must be "):
        func(*args, **kwargs)


def test_the_generated_bad_value_is_refused_by_a_real_call():
    """The dummy-argument calls above reach the check first; a real call with data behaves the same."""
    frame = ic.analysis_frame(ic.datasets.load_ofa_len())
    with pytest.raises(ParameterError, match="fit_cox: ci='no-such-option' is not allowed"):
        ic.fit_cox(frame, "pfs_months", "pfs_event", ["nk_per_ul"], ci="no-such-option")
    with pytest.raises(ParameterError, match="screen: seed=-1000000000 is not allowed"):
        ic.screen(frame, ["nk_per_ul"], outcome="cr", n_boot=10, seed=-(10**9))
