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

    [analysis]
    adjust = "fdr_bh"             # "fdr_bh", "holm", "bonferroni", "none"
    alpha = 0.05
    seed = 20160617
    km_feature = "nk_function_score"
    n_perm = 2000
"""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..errors import ConfigError

__all__ = ["AnalysisConfig", "load_config", "DEFAULT_FEATURES"]

DEFAULT_FEATURES = (
    "cd3_per_ul", "cd4_per_ul", "cd8_per_ul", "nk_per_ul", "cd4_cd8_ratio", "t_function_score", "nk_function_score",
)
_CHOICES = {
    ("models", "logistic"): ("ml", "firth"),
    ("models", "cox"): ("ml", "firth"),
    ("models", "ci"): ("wald", "profile"),
    ("analysis", "adjust"): ("fdr_bh", "holm", "bonferroni", "none"),
}
_INPUTS = ("clinical", "immunophenotype", "function_assays", "adverse_events")


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
    adjust: str = "fdr_bh"
    alpha: float = 0.05
    seed: int = 20160617
    km_feature: str = "nk_function_score"
    n_perm: int = 2000
    inputs: dict = field(default_factory=dict)

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
        raise ConfigError(f"[endpoints] group {self.group!r} has levels {sorted(map(str, values))}: say which two "
                          "to compare with compare = [a, b] (or --compare A B).")

    def to_dict(self) -> dict:
        out = asdict(self)
        out["inputs"] = {k: Path(v).name for k, v in self.inputs.items()}  # file names only: no directories
        return out


_SCHEMA = {
    "inputs": {k: str for k in _INPUTS},
    "endpoints": {"binary": str, "duration": str, "event": str, "group": str, "compare": list},
    "features": {"names": list, "timepoint": str, "log2_counts": bool, "per_sd": bool, "exclude_flagged": bool},
    "models": {"logistic": str, "cox": str, "ci": str, "covariates": list},
    "analysis": {"adjust": str, "alpha": float, "seed": int, "km_feature": str, "n_perm": int},
}
_TARGET = {("features", "names"): "features"}


def _inside(base: Path, value: str, where: str) -> Path:
    path = (base / value).resolve()
    if not path.is_relative_to(base.resolve()):
        raise ConfigError(f"{where}: path {value!r} leaves the configuration's directory {str(base)!r}; "
                          "put the input files next to analysis.toml or give them on the command line.")
    return path


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
        if section not in _SCHEMA:
            raise ConfigError(f"{label}: unknown section [{section}]; sections are {sorted(_SCHEMA)}.")
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
                    raise ConfigError(f"{label}: [endpoints] compare must name two levels of the group column, "
                                      f"e.g. [\"CR\", \"NR\"] or [1, 0]; got {value!r}.")
            elif kind is list and not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{label}: [{section}] {key} must be a list of column names (strings).")
            choices = _CHOICES.get((section, key))
            if choices and value not in choices:
                raise ConfigError(f"{label}: [{section}] {key} must be one of {list(choices)}, got {value!r}.")
            if section == "inputs":
                values.setdefault("inputs", {})[key] = _inside(base, value, f"{label} [inputs] {key}")
                continue
            name = _TARGET.get((section, key), key)
            values[name] = tuple(value) if kind is list else value
    if "alpha" in values and not 0 < values["alpha"] < 1:
        raise ConfigError(f"{label}: [analysis] alpha must lie in (0, 1), got {values['alpha']!r}.")
    if "n_perm" in values and values["n_perm"] < 0:
        raise ConfigError(f"{label}: [analysis] n_perm must be >= 0.")
    return AnalysisConfig(**values)
