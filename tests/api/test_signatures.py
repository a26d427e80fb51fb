"""The API pass: options after the column arguments are keyword-only, in every public function.

A public function may take positionally only what it works on: the data
(``data``, ``cohort``, a result, arrays of values) and the names of the columns
it uses.  Everything else (method, alpha, missing, seed, ...) comes after the
``*`` so that ``kaplan_meier(df, "t", "e", "g", "log-log")`` cannot silently
mean something else when an option is added.
"""

from __future__ import annotations

import inspect

import pytest

import immune_correlates as ic

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
    for prefix, module in (("", ic), ("", ic.stats), ("plots.", ic.plots), ("", ic.features), ("", ic.design)):
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
