"""Names for people: the label and unit of every feature, endpoint and clinical covariate.

Plots and report tables show ``"NK cells (cells/µL)"`` rather than the
column name ``nk_per_ul``.  :func:`column_label` is the one place that
decides the name shown for a column; ``labels=`` arguments of the plots
override it per column.
"""

from __future__ import annotations

from collections.abc import Mapping

from .._params import FLAG, MAPPING, check_params
from .catalogue import FEATURE_LABELS, feature_catalogue

__all__ = [
    "FEATURE_LABELS",
    "ENDPOINT_LABELS",
    "GROUP_LEVEL_LABELS",
    "COVARIATE_LABELS",
    "column_label",
    "column_unit",
    "display_unit",
    "axis_label",
    "group_level_label",
]

#: (label, unit) of the endpoint columns of ``analysis_frame``; unit "" when it has none.
ENDPOINT_LABELS = {
    "best_response": ("Best response (iwCLL 2008)", ""),
    "cr": ("Complete remission (CR/CRi)", ""),
    "responder": ("Response (CR, CRi, nPR, PR)", ""),
    "response_group": ("Response", ""),
    "mrd_negative": ("MRD-negative CR", ""),
    "pfs_months": ("Progression-free survival", "months from start of treatment"),
    "pfs_event": ("Progression or death", ""),
    "os_months": ("Overall survival", "months from start of treatment"),
    "os_event": ("Death", ""),
    "pfs_days": ("Progression-free survival", "days from start of treatment"),
    "os_days": ("Overall survival", "days from start of treatment"),
    "response_months": ("Time to response", "months from start of treatment"),
    "pfs_cause": ("Progression or death", ""),
}

#: Names of the levels of 0/1 endpoints when they group patients in a plot.
GROUP_LEVEL_LABELS = {
    "cr": {1: "CR/CRi", 0: "No CR"},
    "responder": {1: "Responder", 0: "Non-responder"},
    "mrd_negative": {1: "MRD-negative", 0: "MRD-positive"},
    "pfs_event": {1: "Progressed or died", 0: "Censored"},
    "os_event": {1: "Died", 0: "Censored"},
}

#: (label, unit) of the clinical covariates of ``analysis_frame``.
COVARIATE_LABELS = {
    "age": ("Age", "years"),
    "sex": ("Sex", ""),
    "del17p": ("del(17p)", ""),
    "ighv_unmutated": ("Unmutated IGHV", ""),
    "prior_therapies": ("Prior therapies", "number"),
    "alc": ("Absolute lymphocyte count", "10⁹/L"),
    "cycles_received": ("Cycles received", "number"),
}

#: How catalogue units are written for people.
_UNIT_DISPLAY = {"cells/uL": "cells/µL", "ratio": "", "SD units": "z-score"}


def display_unit(unit: str | None) -> str:
    """A catalogue unit as printed on an axis (``"cells/uL"`` -> ``"cells/µL"``; ``"ratio"`` -> ``""``)."""
    if not unit:
        return ""
    unit = _UNIT_DISPLAY.get(unit, unit)
    return unit.replace("/uL", "/µL").replace("1e+07", "10⁷")


def _catalogue_units() -> dict:
    """Units of the default panel's features (read once)."""
    global _UNITS
    if _UNITS is None:
        cat = feature_catalogue()
        _UNITS = dict(zip(cat["feature"], cat["unit"]))
    return _UNITS


_UNITS: dict | None = None


@check_params(
    labels=MAPPING,
)
def column_label(column: str, *, labels: Mapping | None = None) -> str:
    """The name shown for a column: ``labels[column]``, else a known label, else the column itself.

    Examples
    --------
    >>> column_label("nk_per_ul"), column_label("pfs_months"), column_label("x", labels={"x": "My x"})
    ('NK cells', 'Progression-free survival', 'My x')
    """
    column = str(column)
    if labels and column in labels:
        return str(labels[column])
    if column in FEATURE_LABELS:
        return FEATURE_LABELS[column]
    for table in (ENDPOINT_LABELS, COVARIATE_LABELS):
        if column in table:
            return table[column][0]
    return column


@check_params(
    units=MAPPING,
)
def column_unit(column: str, *, units: Mapping | None = None) -> str:
    """The unit shown for a column (``"cells/µL"``, ``"z-score"``, ``"months from start of treatment"``)."""
    column = str(column)
    if units and column in units:
        return str(units[column])
    for table in (ENDPOINT_LABELS, COVARIATE_LABELS):
        if column in table:
            return table[column][1]
    return display_unit(_catalogue_units().get(column, ""))


@check_params(
    labels=MAPPING,
    log=FLAG,
    unit=FLAG,
)
def axis_label(column: str, *, labels: Mapping | None = None, log: bool = False, unit: bool = True) -> str:
    """``"NK cells (cells/µL, log scale)"``: label, unit and scale of an axis.

    A label given in ``labels`` is taken as complete (no unit appended).

    Examples
    --------
    >>> axis_label("nk_per_ul", log=True)
    'NK cells (cells/µL, log scale)'
    >>> axis_label("pfs_months")
    'Progression-free survival (months from start of treatment)'
    """
    if labels and str(column) in labels:
        text, u = str(labels[str(column)]), ""
    else:
        text, u = column_label(column), column_unit(column) if unit else ""
    parts = [p for p in (u, "log scale" if log else "") if p]
    return f"{text} ({', '.join(parts)})" if parts else text


def group_level_label(group: str, level) -> str:
    """A level of a grouping column for people: ``responder = 1`` -> ``"Responder"``.

    Known 0/1 endpoints take :data:`GROUP_LEVEL_LABELS`; another boolean or
    0/1 column names the variable (``"smoker: yes"``, ``"group2 = 0"``), so a
    legend or a column never reads ``"True"`` or ``"0"`` alone; text levels
    are kept.

    Examples
    --------
    >>> group_level_label("responder", 1), group_level_label("cr", "0"), group_level_label("smoker", True)
    ('Responder', 'No CR', 'smoker: yes')
    >>> group_level_label("group2", 0.0), group_level_label("response_group", "CR")
    ('group2 = 0', 'CR')
    """
    names = GROUP_LEVEL_LABELS.get(str(group), {})
    name = column_label(str(group))
    name = name if name == str(group) else name[:1].upper() + name[1:]  # a raw column name stays as written
    if isinstance(level, bool) or type(level).__name__ == "bool_":
        return names.get(int(level), f"{name}: {'yes' if level else 'no'}")
    if isinstance(level, str) and level in ("True", "False"):
        return names.get(int(level == "True"), f"{name}: {'yes' if level == 'True' else 'no'}")
    key = level
    if isinstance(level, str) and level in ("0", "1", "0.0", "1.0"):
        key = float(level)
    if isinstance(key, (int, float)) or type(key).__module__ == "numpy":
        try:
            if float(key) in (0.0, 1.0):
                return names.get(int(float(key)), f"{column_label(str(group))} = {int(float(key))}")
        except (TypeError, ValueError):
            pass
    return str(level)
