"""The feature catalogue: one row per feature with lineage, kind, unit, formula and sources."""

from __future__ import annotations

import pandas as pd

from .panel import FeatureSpec, Panel, load_panel

__all__ = ["feature_catalogue", "CATALOGUE_COLUMNS", "FEATURE_LABELS"]

#: Label of each feature of the default CLL panel (units come from the catalogue).
FEATURE_LABELS = {
    "cd3_per_ul": "T cells",
    "cd4_per_ul": "CD4 T cells",
    "cd8_per_ul": "CD8 T cells",
    "treg_per_ul": "Regulatory T cells",
    "pd1_cd8_per_ul": "PD-1+ CD8 T cells",
    "nk_per_ul": "NK cells",
    "nk_cd56bright_per_ul": "CD56bright NK cells",
    "nk_cd56dim_cd16_per_ul": "CD56dim CD16+ NK cells",
    "cll_per_ul": "CLL cells",
    "cd4_cd8_ratio": "CD4:CD8 ratio",
    "treg_pct_of_cd4": "Tregs, % of CD4",
    "pd1_pct_of_cd8": "PD-1+, % of CD8",
    "nk_cd56bright_pct_of_nk": "CD56bright, % of NK",
    "nk_cd107a_pct": "NK degranulation (CD107a+)",
    "nk_ifng_pct": "IFN-γ+, % of NK",
    "cd8_ifng_pct": "IFN-γ+, % of CD8",
    "cd8_tnf_pct": "TNF+, % of CD8",
    "cd8_cd107a_pct": "CD8 degranulation (CD107a+)",
    "t_proliferation_pct": "T-cell proliferation",
    "t_division_index": "T-cell division index",
    "t_synapse_index": "T-cell synapse index",
    "nk_cytotox_auc": "NK cytotoxicity (AUC)",
    "nk_adcc_auc": "NK ADCC (AUC)",
    "nk_cytotox_lu20": "NK cytotoxicity (LU20)",
    "nk_adcc_lu20": "NK ADCC (LU20)",
    "cd8_ifng_per_ul": "IFN-γ+ CD8 T cells",
    "nk_cd107a_per_ul": "CD107a+ NK cells",
    "t_function_score": "T-cell function score",
    "nk_function_score": "NK function score",
}

#: Catalogues of the panels seen last (a Panel is immutable), keyed by identity; callers get copies.
_CACHE: dict[int, tuple[Panel, pd.DataFrame]] = {}

CATALOGUE_COLUMNS = ["feature", "lineage", "kind", "recipe", "unit", "formula", "sources", "description", "label"]
_KIND = {
    "count": "count",
    "frequency": "frequency",
    "ratio": "ratio",
    "function": "function",
    "lysis_auc": "function",
    "lytic_units": "function",
    "functional_count": "count",
    "composite": "composite",
}


def _describe(spec: FeatureSpec, panel: Panel) -> tuple[str, str, str]:
    """(unit, formula, sources) of one feature."""
    o = spec.options
    k = spec.kind
    if k == "count":
        method = {
            "auto": "bead when the sample has bead data, else dual",
            "dual": "dual platform",
            "bead": "bead counting",
        }[o["method"]]
        formula = (
            "dual: alc [10^9/L] x 1000 x fraction of lymphocytes; "
            "bead: events / bead_events x beads_per_tube / sample_volume_ul "
            f"(method: {method})"
        )
        return "cells/uL", formula, o["path"]
    if k == "frequency":
        return (
            f"% of {o['of'].split('/')[-1]}",
            f"100 x product of freq_of_parent/100 from below {o['of']!r} down to the population",
            o["path"],
        )
    if k == "ratio":
        return (
            "ratio",
            "fraction of lymphocytes (numerator) / fraction of lymphocytes (denominator)",
            f"{o['numerator']}; {o['denominator']}",
        )
    if k == "function":
        src = f"{o['assay']}/{o['cell_type']} ({o['unit']})"
        if o["background"] == "subtract":
            return o["unit"], "max(stimulated - unstimulated, 0)", src
        return o["unit"], "stimulated value", src
    if k == "lysis_auc":
        return (
            "% lysis x log2(E:T)",
            "trapezoid area of max(% lysis, 0) over log2(E:T)",
            f"{o['assay']}/{o['cell_type']} (% lysis at each E:T)",
        )
    if k == "lytic_units":
        return (
            f"LU{o['percent']:g} per {o['per_effectors']:.3g} effectors",
            f"{o['per_effectors']:.3g} / (E:T giving {o['percent']:g}% lysis, interpolated on "
            f"log E:T, x {o['targets_per_well']:g} targets per well)",
            f"{o['assay']}/{o['cell_type']} (% lysis at each E:T)",
        )
    if k == "functional_count":
        return ("cells/uL", f"{o['readout']} / 100 x {o['count']}", f"{o['readout']}; {o['count']}")
    signs = ", ".join(("-" if r in o["inhibitory"] else "+") + r for r in o["readouts"])
    return ("z-score", f"mean of signed z-scores (cohort or reference mean/SD), >= {o['min_readouts']} readouts", signs)


def feature_catalogue(panel=None) -> pd.DataFrame:
    """One row per feature of ``panel`` (default: the CLL panel).

    Parameters
    ----------
    panel : Panel, mapping, path or None
        Anything :func:`~immune_correlates.features.load_panel` accepts.

    Returns
    -------
    DataFrame with columns ``feature``, ``label`` (the name for people, e.g.
    "NK cells"; the panel's description for features this package does not
    know), ``lineage``, ``kind`` (count,
    frequency, ratio, function, composite), ``recipe`` (panel kind), ``unit``,
    ``formula``, ``sources`` (gating paths, assays or readouts; composite
    readouts prefixed with their sign) and ``description``.

    Examples
    --------
    >>> cat = feature_catalogue()
    >>> cat.set_index("feature").loc["cd3_per_ul", ["label", "unit"]].tolist()
    ['T cells', 'cells/uL']
    """
    panel = load_panel(panel)
    cached = _CACHE.get(id(panel))
    if cached is not None and cached[0] is panel:
        return cached[1].copy()
    rows = []
    for spec in panel.features:
        unit, formula, sources = _describe(spec, panel)
        label = FEATURE_LABELS.get(spec.name) or spec.description or spec.name
        rows.append(
            {
                "feature": spec.name,
                "label": label,
                "lineage": spec.lineage,
                "kind": _KIND[spec.kind],
                "recipe": spec.kind,
                "unit": unit,
                "formula": formula,
                "sources": sources,
                "description": spec.description,
            }
        )
    table = pd.DataFrame(rows, columns=CATALOGUE_COLUMNS)
    if len(_CACHE) >= 16:
        _CACHE.clear()
    _CACHE[id(panel)] = (panel, table)
    return table.copy()
