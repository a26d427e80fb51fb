"""The analysis configuration: a TOML file of data only.

An ``analysis.toml`` names columns and options, never code: it is parsed with
:mod:`tomllib`, every key is checked against the schema below, and file paths
must stay inside the configuration's own directory.  Nothing is evaluated.

Example
-------
.. code-block:: toml

    [inputs]                      # optional; command-line files take precedence
    clinical = "clinical.csv"
    immunophenotype = "immunophenotype.csv"

    [endpoints]
    binary = "cr"                 # logistic outcome
    duration = "pfs_months"       # Cox / Kaplan-Meier
    event = "pfs_event"
    group = "response_group"      # any column of the analysis frame (responder, cr, ...)
    compare = ["CR", "NR"]        # the two levels compared head to head ([1, 0] for a 0/1 column)

    [features]
    names = ["cd3_per_ul", "nk_per_ul", "t_function_score", "nk_function_score"]
    timepoint = "baseline"
    log2_counts = true            # model counts on the log2 scale
    exclude_flagged = false       # leave out values resting on < 100 gate events (reported)
    per_sd = true                 # effects per SD of the (transformed) feature

    [models]
    logistic = "firth"            # "ml" or "firth"
    cox = "ml"                    # "ml" or "firth"
    ci = "profile"                # "wald" or "profile"
    covariates = []
    # adjustment = "age + C(sex)"  # or: the right side of a formula adjusting every model
    #                              # (parsed, never run; instead of covariates)

    [columns]                     # optional: the site's column names -> ours (every table)
    "Patient ID" = "patient_id"
    "ALC (10^9/L)" = "alc"

    [analysis]
    adjust = "fdr_bh"             # "fdr_bh", "holm", "bonferroni", "none"
    alpha = 0.05
    seed = 20160617
    km_feature = "nk_function_score"
    n_perm = 2000

    [missing]                     # optional; complete cases are the default
    method = "impute"             # "complete_case" or "impute" (multiple imputation, see report/missing.py)
    m = 20                        # imputed data sets
    seed = 2016                   # default: [analysis] seed
    n_iter = 10                   # iterations of the chained equations
    auxiliary = ["alc"]           # columns that inform the imputations without being modelled

    [populations]                 # optional: a panel's cell counts per population (see report/populations.py)
    counts = "population_counts.csv"   # one row per baseline sample (sample_id), one column per population
    transform = "clr"             # "clr" (centred log-ratio) or "log_proportion", for the outcome screens
    sample_column = "sample_id"   # optional: the clinical column naming each patient's sample (default: patient_id)
"""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..errors import ConfigError

__all__ = ["AnalysisConfig", "load_config", "DEFAULT_FEATURES"]

DEFAULT_FEATURES = (
    "cd3_per_ul",
    "cd4_per_ul",
    "cd8_per_ul",
    "nk_per_ul",
    "cd4_cd8_ratio",
    "t_function_score",
    "nk_function_score",
)
_CHOICES = {
    ("models", "logistic"): ("ml", "firth"),
    ("models", "cox"): ("ml", "firth"),
    ("models", "ci"): ("wald", "profile"),
    ("analysis", "adjust"): ("fdr_bh", "holm", "bonferroni", "none"),
    ("missing", "method"): ("complete_case", "impute"),
    ("populations", "transform"): ("clr", "log_proportion"),
}
_INPUTS = ("clinical", "immunophenotype", "function_assays", "adverse_events")
#: The model name that ``screen`` and ``permutation_test`` take for each documented ``[models]`` value.
SCREEN_MODELS = {"logistic": {"ml": "logistic", "firth": "firth"}, "cox": {"ml": "cox", "firth": "firth_cox"}}


@dataclass(frozen=True)
class AnalysisConfig:
    """Every option of an analysis run, with the defaults of the demo."""

    binary: str = "cr"
    duration: str = "pfs_months"
    event: str = "pfs_event"
    group: str = "response_group"
    compare: tuple = ()
    features: tuple[str, ...] = DEFAULT_FEATURES
    timepoint: str = "baseline"
    exclude_flagged: bool = False
    log2_counts: bool = True
    per_sd: bool = True
    logistic: str = "firth"
    cox: str = "ml"
    ci: str = "profile"
    covariates: tuple[str, ...] = ()
    adjustment: str | None = None  # right side of a formula, e.g. "age + C(sex)"
    adjust: str = "fdr_bh"
    alpha: float = 0.05
    seed: int = 20160617
    km_feature: str = "nk_function_score"
    n_perm: int = 2000
    missing: str = "complete_case"  # [missing] method
    impute_m: int = 20
    impute_seed: int | None = None  # None: the [analysis] seed
    impute_iter: int = 10
    auxiliary: tuple[str, ...] = ()
    population_counts: Path | None = None  # [populations] counts, or --population-counts
    population_transform: str = "clr"
    population_sample: str | None = None  # None: the patient_id
    inputs: dict = field(default_factory=dict)
    columns: dict = field(default_factory=dict)

    @property
    def adjustment_terms(self) -> tuple[str, ...]:
        """What every model is adjusted for, as written: the covariates, or the adjustment formula's terms."""
        if self.covariates:
            return tuple(self.covariates)
        return tuple(t.strip() for t in (self.adjustment or "").split("+") if t.strip())

    @property
    def screen_models(self) -> tuple[str, str]:
        """``(logistic, cox)`` as ``screen`` names them (``"ml"`` -> ``"logistic"``/``"cox"``, ``"firth"`` ->
        ``"firth"``/``"firth_cox"``)."""
        return SCREEN_MODELS["logistic"][self.logistic], SCREEN_MODELS["cox"][self.cox]

    def compare_levels(self, column) -> list:
        """The two levels compared head to head: ``compare``, else the defaults for ``column``.

        ``["CR", "NR"]`` for ``response_group``, ``[1, 0]`` for a 0/1 column;
        otherwise ``compare`` must be given.
        """
        if self.compare:
            return list(self.compare)
        if self.group == "response_group":
            return ["CR", "NR"]
        values = set(column.dropna().unique().tolist())
        if values and values <= {0, 1}:
            return [1, 0]
        raise ConfigError(
            f"[endpoints] group {self.group!r} has levels {sorted(map(str, values))}: say which two "
            "to compare with compare = [a, b] (or --compare A B)."
        )

    def to_dict(self) -> dict:
        out = asdict(self)
        out["inputs"] = {k: Path(v).name for k, v in self.inputs.items()}  # file names only: no directories
        if self.population_counts is not None:
            out["population_counts"] = Path(self.population_counts).name
        return out


_SCHEMA = {
    "inputs": dict.fromkeys(_INPUTS, str),
    "endpoints": {"binary": str, "duration": str, "event": str, "group": str, "compare": list},
    "features": {"names": list, "timepoint": str, "log2_counts": bool, "per_sd": bool, "exclude_flagged": bool},
    "models": {"logistic": str, "cox": str, "ci": str, "covariates": list, "adjustment": str},
    "analysis": {"adjust": str, "alpha": float, "seed": int, "km_feature": str, "n_perm": int},
    "missing": {"method": str, "m": int, "seed": int, "n_iter": int, "auxiliary": list},
    "populations": {"counts": str, "transform": str, "sample_column": str},
}
_TARGET = {
    ("features", "names"): "features",
    ("missing", "method"): "missing",
    ("missing", "m"): "impute_m",
    ("missing", "seed"): "impute_seed",
    ("missing", "n_iter"): "impute_iter",
    ("populations", "transform"): "population_transform",
    ("populations", "sample_column"): "population_sample",
}


def _inside(base: Path, value: str, where: str) -> Path:
    path = (base / value).resolve()
    if not path.is_relative_to(base.resolve()):
        raise ConfigError(
            f"{where}: path {value!r} leaves the configuration's directory {str(base)!r}; "
            "put the input files next to analysis.toml or give them on the command line."
        )
    return path


def _column_map(body: dict, label: str) -> dict:
    """``[columns]``: the site's column names to ours, each value one of the documented columns."""
    from ..data.io import check_column_map
    from ..errors import InputError

    for site, ours in body.items():
        if not isinstance(ours, str):
            raise ConfigError(f"{label}: [columns] {site!r} must map to a column name (a string), got {ours!r}.")
    try:
        check_column_map(body)
    except InputError as exc:
        raise ConfigError(f"{label}: [columns] {exc}") from exc
    return dict(body)


def _adjustment(text: str, with_covariates: bool, label: str) -> str:
    """The ``[models] adjustment`` formula's right side, vetted as data (see :mod:`..stats.formula`)."""
    from ..errors import FormulaError
    from ..stats.regression.formula import check_formula

    rhs = text.strip().removeprefix("~").strip()
    if with_covariates:
        raise ConfigError(f"{label}: [models] give covariates or adjustment, not both.")
    try:
        check_formula(f"_outcome ~ {rhs}")
    except FormulaError as exc:
        raise ConfigError(f"{label}: [models] adjustment: {exc}") from None
    return rhs


def load_config(source: str | Path | dict | None = None) -> AnalysisConfig:
    """Read and validate an analysis configuration.

    Parameters
    ----------
    source : path to a TOML file, a dict of the same shape, or None (defaults)

    Raises
    ------
    ConfigError
        For unknown sections or keys, wrong types, values outside their
        choices, or input paths that leave the configuration's directory.
    """
    if source is None:
        return AnalysisConfig()
    base = Path.cwd()
    label = "configuration"
    if isinstance(source, dict):
        raw = source
    else:
        path = Path(source)
        label = path.name
        base = path.resolve().parent
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"configuration file not found: {str(path)!r}.") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{label}: not valid TOML ({exc}).") from None
    values: dict = {}
    for section, body in raw.items():
        if section == "columns" and isinstance(body, dict):
            values["columns"] = _column_map(body, label)
            continue
        if section not in _SCHEMA:
            raise ConfigError(f"{label}: unknown section [{section}]; sections are {sorted([*_SCHEMA, 'columns'])}.")
        if not isinstance(body, dict):
            raise ConfigError(f"{label}: [{section}] must be a table of keys.")
        for key, value in body.items():
            if key not in _SCHEMA[section]:
                raise ConfigError(f"{label}: unknown key {key!r} in [{section}]; keys are {sorted(_SCHEMA[section])}.")
            kind = _SCHEMA[section][key]
            ok = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
            if kind is float and isinstance(value, int) and not isinstance(value, bool):
                value, ok = float(value), True
            if not ok:
                raise ConfigError(f"{label}: [{section}] {key} must be a {kind.__name__}, got {value!r}.")
            if (section, key) == ("endpoints", "compare"):
                if len(value) != 2 or not all(isinstance(v, (str, int)) for v in value):
                    raise ConfigError(
                        f"{label}: [endpoints] compare must name two levels of the group column, "
                        f'e.g. ["CR", "NR"] or [1, 0]; got {value!r}.'
                    )
            elif kind is list and not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{label}: [{section}] {key} must be a list of column names (strings).")
            choices = _CHOICES.get((section, key))
            if choices and value not in choices:
                raise ConfigError(f"{label}: [{section}] {key} must be one of {list(choices)}, got {value!r}.")
            if section == "inputs":
                values.setdefault("inputs", {})[key] = _inside(base, value, f"{label} [inputs] {key}")
                continue
            if (section, key) == ("populations", "counts"):
                values["population_counts"] = _inside(base, value, f"{label} [populations] counts")
                continue
            name = _TARGET.get((section, key), key)
            values[name] = tuple(value) if kind is list else value
    if "alpha" in values and not 0 < values["alpha"] < 1:
        raise ConfigError(f"{label}: [analysis] alpha must lie in (0, 1), got {values['alpha']!r}.")
    if "n_perm" in values and values["n_perm"] < 0:
        raise ConfigError(f"{label}: [analysis] n_perm must be >= 0.")
    if values.get("impute_m", 2) < 2 or values.get("impute_iter", 1) < 1 or values.get("impute_seed", 0) < 0:
        raise ConfigError(
            f"{label}: [missing] m must be >= 2 (20 or more is usual), n_iter >= 1 and seed >= 0; "
            f"got m = {values.get('impute_m', 20)}, n_iter = {values.get('impute_iter', 10)}, "
            f"seed = {values.get('impute_seed')}."
        )
    if values.get("adjustment") is not None:
        values["adjustment"] = _adjustment(values["adjustment"], bool(values.get("covariates")), label)
    return AnalysisConfig(**values)
