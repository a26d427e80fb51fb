"""Fast feedback: importing the package, fitting a model and asking the command line for help load no
plotting or optional library (each checked in a fresh interpreter).

pandas >= 3 imports pyarrow itself when it is installed (and ``pyarrow.pandas_compat`` as soon as a
column of text is made), so pyarrow is in the baseline ``import numpy, scipy.stats, pandas``; the package
never imports it (``pd.read_parquet`` does, when a Parquet file is read).  The timings are measured in the README, not here (a shared
machine makes a timing test flaky).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

#: Never loaded by ``import immune_correlates`` (or a model fit): plotting, optional and heavy libraries.
HEAVY = ("matplotlib", "seaborn", "statsmodels", "sklearn", "joblib", "docx", "openpyxl", "jinja2", "formulaic")


def _loaded(code: str) -> set[str]:
    """Top-level packages imported by ``code`` beyond numpy + scipy.stats + pandas, in a fresh interpreter."""
    probe = (
        "import sys, json; import numpy, scipy.stats, pandas; before = set(sys.modules); "
        f"{code}; "
        "print(json.dumps(sorted({m.split('.')[0] for m in set(sys.modules) - before})))"
    )
    env = dict(os.environ, MPLBACKEND="Agg")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, env=env)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


@pytest.mark.slow  # more than two seconds: full suite only
def test_import_loads_no_plotting_or_optional_library():
    added = _loaded("import immune_correlates")
    assert not added & set(HEAVY), sorted(added & set(HEAVY))


@pytest.mark.slow  # more than two seconds: full suite only
def test_a_model_fit_and_a_screen_load_no_plotting_library():
    code = (
        "import immune_correlates as ic; f = ic.analysis_frame(ic.datasets.load_ofa_len()); "
        "import warnings; warnings.simplefilter('ignore'); "
        "ic.fit_logistic(f, 'cr', ['nk_per_ul'], method='firth'); "
        "ic.fit_cox(f, 'pfs_months', 'pfs_event', ['nk_per_ul']); "
        "ic.screen(f, ['nk_per_ul', 'cd8_per_ul'], outcome='cr')"
    )
    added = _loaded(code)
    assert not added & {"matplotlib", "seaborn", "statsmodels", "sklearn"}, sorted(added)


@pytest.mark.slow  # more than two seconds: full suite only
def test_plots_load_when_used():
    added = _loaded("import immune_correlates as ic; ic.plots.kaplan_meier")
    assert "matplotlib" in added


@pytest.mark.slow  # more than two seconds: full suite only
def test_command_line_help_loads_no_plotting_library():
    code = "from immune_correlates import cli\ntry:\n    cli.main(['--help'])\nexcept SystemExit:\n    pass"
    added = _loaded(f"exec({code!r})")
    assert not added & {"matplotlib", "seaborn", "statsmodels", "sklearn"}, sorted(added)


@pytest.mark.parametrize("name", ["plots", "datasets"])
def test_lazy_and_eager_subpackages_are_both_listed(name):
    import immune_correlates as ic

    assert name in dir(ic) and getattr(ic, name).__name__ == f"immune_correlates.{name}"
