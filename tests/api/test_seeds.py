"""One meaning of ``seed=``: every seeded public function takes None, an int, a SeedSequence or a Generator,
converted only by ``immune_correlates._seeds``; equal seeds give the same bits.

A source scan fails on a random generator or seed sequence made anywhere else (a seed handled by hand);
a walk of the public functions fails on a ``seed`` option that is not declared with ``_params.SEED``.
"""

from __future__ import annotations

import ast
import inspect
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import immune_correlates as ic
from immune_correlates import stats as st
from immune_correlates._params import SEED

from .test_signatures import FUNCTIONS

PACKAGE = Path(ic.__file__).resolve().parent

#: The one module that turns seeds into generators.
SEED_MODULES = {"_seeds.py"}
#: Calls that make a generator or a seed sequence.
RANDOM_CALLS = {"default_rng", "SeedSequence", "RandomState", "Generator", "seed"}


def _hand_made_seeds(package: Path = PACKAGE) -> list[str]:
    found = []
    for path in sorted(package.rglob("*.py")):
        rel = path.relative_to(package).as_posix()
        if rel in SEED_MODULES:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                f = node.func
                name = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""
                owner = ast.unparse(f.value) if isinstance(f, ast.Attribute) else ""
                if name in RANDOM_CALLS and (name != "seed" or owner.endswith("random")):
                    found.append(f"{rel}:{node.lineno} {ast.unparse(f)}(...)")
    return found


def test_no_seed_is_handled_by_hand():
    assert _hand_made_seeds() == [], "convert seeds with immune_correlates._seeds (seed_sequence, rng, spawn)"


def test_the_scan_sees_a_hand_made_generator(tmp_path):
    (tmp_path / "mod.py").write_text("import numpy as np\ndef f(seed):\n    return np.random.default_rng(seed)\n")
    assert _hand_made_seeds(tmp_path) == ["mod.py:3 np.random.default_rng(...)"]


@pytest.mark.parametrize("name", sorted(n for n, f in FUNCTIONS.items() if "seed" in inspect.signature(f).parameters))
def test_every_seed_option_is_declared_with_the_one_seed_constraint(name):
    assert FUNCTIONS[name].__parameter_constraints__["seed"] is SEED


@pytest.fixture(scope="module")
def frame():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ic.analysis_frame(ic.datasets.load_ofa_len())


def _quiet(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ic.ImmuneCorrelatesWarning)
        return fn()


#: Covariates of the small penalized fits below.
PENALIZED_COLUMNS = ["nk_per_ul", "cd8_per_ul", "cd4_per_ul", "age"]

#: A small call of every seeded public function, and the numbers it returns.
SEEDED = {
    "screen": lambda f, s: ic.screen(f, ["nk_per_ul", "cd8_per_ul"], outcome="cr", n_boot=20, seed=s, ci="wald")[
        ["boot_se", "boot_ci_lower", "boot_ci_upper"]
    ].to_numpy(),
    "bootstrap_discrimination": lambda f, s: np.array(
        [st.bootstrap_discrimination(f, "nk_per_ul", outcome="cr", n_boot=30, seed=s).ci_lower]
    ),
    "optimism_corrected": lambda f, s: np.array(
        [st.optimism_corrected(f, ["nk_per_ul"], outcome="cr", n_boot=10, seed=s).corrected]
    ),
    "permutation_test": lambda f, s: st.permutation_test(
        f, ["nk_per_ul", "cd8_per_ul"], outcome="cr", n_perm=20, seed=s
    )["p_perm"].to_numpy(),
    "optimal_cutpoint": lambda f, s: np.array(
        [
            ic.optimal_cutpoint(
                f, "nk_per_ul", "pfs_months", "pfs_event", pmethod="permutation", n_perm=50, seed=s
            ).pvalue
        ]
    ),
    "power": lambda f, s: np.array([ic.power(analysis="wilcoxon", n_sim=20, seed=s).power]),
    "power_curve": lambda f, s: (
        ic.power_curve(analysis="wilcoxon", n=(20,), n_sim=20, seed=s).table.select_dtypes("number").to_numpy()
    ),
    "simulate": lambda f, s: ic.simulate(seed=s).cohort.clinical.select_dtypes("number").to_numpy(),
    "simulate_trials": lambda f, s: ic.design.simulate_trials(n_sim=5, seed=s).features,
    "impute": lambda f, s: (
        ic.impute(f[["nk_per_ul", "cd8_per_ul", "age", "cr"]], m=2, seed=s).completed(1).to_numpy(dtype=float)
    ),
    "simulate_population_counts": lambda f, s: ic.design.simulate_population_counts(
        {"NR": 5, "CR": 5}, n_populations=4, seed=s
    )[0].to_numpy(),
    "differential_abundance": lambda f, s: ic.differential_abundance(
        *ic.design.simulate_population_counts({"NR": 5, "CR": 5}, n_populations=4, seed=1),
        group="group",
        n_perm=20,
        seed=s,
    )["p_value"].to_numpy(),
    "fit_penalized": lambda f, s: ic.fit_penalized(f, "cr", PENALIZED_COLUMNS, cv=3, seed=s).params.to_numpy(),
    "validate_signature": lambda f, s: (
        ic.validate_signature(f, "cr", PENALIZED_COLUMNS, cv=3, outer=3, n_boot=3, seed=s).summary()["value"].to_numpy()
    ),
    "stability_selection": lambda f, s: (
        ic.stability_selection(f, "cr", PENALIZED_COLUMNS, n_pairs=5, q=2, seed=s).summary()["selection_probability"]
    ).to_numpy(),
}


def test_the_seeded_calls_cover_every_seeded_public_function():
    seeded = {n for n, f in FUNCTIONS.items() if "seed" in inspect.signature(f).parameters}
    plots_and_cli = {"plots.response_boxplot", "run_power_cli"}  # a jitter seed and the command line's power
    assert seeded - plots_and_cli <= set(SEEDED), sorted(seeded - plots_and_cli - set(SEEDED))


@pytest.mark.parametrize("name", sorted(SEEDED))
@pytest.mark.slow  # more than two seconds: full suite only
def test_the_four_seed_forms_agree(frame, name):
    call = SEEDED[name]
    as_int = _quiet(lambda: call(frame, 11))
    np.testing.assert_array_equal(_quiet(lambda: call(frame, np.random.SeedSequence(11))), as_int)
    first = _quiet(lambda: call(frame, np.random.default_rng(5)))
    np.testing.assert_array_equal(_quiet(lambda: call(frame, np.random.default_rng(5))), first)
    _quiet(lambda: call(frame, None))  # fresh entropy: runs
    with pytest.raises(ic.ParameterError, match="seed="):
        call(frame, "11")


def test_a_generator_advances_so_two_calls_differ(frame):
    gen = np.random.default_rng(3)
    a = _quiet(lambda: SEEDED["screen"](frame, gen))
    b = _quiet(lambda: SEEDED["screen"](frame, gen))
    assert not np.array_equal(a, b)
    assert isinstance(pd.DataFrame(a), pd.DataFrame)
