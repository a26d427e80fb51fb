"""From a cohort to a finished report directory."""

from __future__ import annotations

import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from ..data.pseudonymize import pseudonymize as _pseudonymize
from ..errors import MissingDataWarning
from .config import AnalysisConfig
from .figures import make_figures
from .html import figure_payload, render_report, table_payload
from .pipeline import AnalysisResults, run_analysis
from .provenance import provenance
from .writer import figure_png, write_outputs

__all__ = ["make_report"]

_CAPTIONS = {
    "trial_summary": "Efficacy and safety (proportions with exact 95% intervals; Kaplan-Meier estimates).",
    "cr_vs_nr": "Baseline features of complete responders (CR/CRi) against non-responders.",
    "response_groups": "Baseline features across the ordered response groups NR < PR < CR.",
    "logistic_cr": "Univariable logistic models of complete remission, one per feature.",
    "cox_pfs": "Univariable Cox models of progression-free survival, one per feature.",
    "km_median_split": "Median progression-free survival by median split of the feature.",
    "logrank_median_split": "Log-rank test of the median split.",
    "cutpoint": "Maximally selected log-rank cutpoint with its corrected p-value.",
    "exclusions": "Every patient left out of a step, with the reason.",
    "response_landmark": "Landmark analysis: PFS from the landmark of patients progression-free at it, by response "
                         "by then (Cox hazard ratio, responded vs not).",
    "response_landmark_sweep": "The landmark analysis repeated at other landmarks, with numbers at risk.",
    "response_time_dependent": "Response as a time-dependent covariate (counting-process Cox, robust SE by patient) "
                               "and the Mantel-Byar test.",
    "screen_cr": "Every derived feature against complete remission: one model per feature, BH q-values and "
                 "Westfall-Young maxT permutation-adjusted p-values (p_maxt).",
    "screen_pfs": "Every derived feature against progression-free survival: one Cox model per feature, BH q-values "
                  "and Westfall-Young maxT permutation-adjusted p-values (p_maxt).",
}


def _sections(res: AnalysisResults, pngs: dict, captions: dict) -> list[dict]:
    t = res.tables

    def tab(name, cols=None):
        frame = t[name] if cols is None else t[name][[c for c in cols if c in t[name].columns]]
        return table_payload(frame, _CAPTIONS.get(name, ""))

    def fig(name):
        return [figure_payload(pngs[name], captions[name])] if name in pngs else []

    cfg = res.config
    ratio_cols = ["feature", "scale", "n", "n_events", "estimate", "std_error", "ci_lower", "ci_upper",
                  "p_value", "q_value", "method", "test"]
    return [
        {"title": "Trial summary", "text": "", "tables": [tab("trial_summary")], "figures": []},
        {"title": "Responders against non-responders",
         "text": f"Features compared between groups of {cfg.group}; p-values adjusted across features by {cfg.adjust}.",
         "tables": [tab("cr_vs_nr"), tab("response_groups")], "figures": fig("response_panel")},
        {"title": "Complete remission: logistic models",
         "text": f"Outcome {cfg.binary}; method {cfg.logistic}, {cfg.ci} intervals. Estimates are log odds ratios "
                 "per unit of the scale shown.",
         "tables": [tab("logistic_cr", ratio_cols[:8] + ["odds_ratio", "odds_ratio_ci_lower", "odds_ratio_ci_upper"] + ratio_cols[8:])],
         "figures": fig("forest_logistic")},
        {"title": "Progression-free survival",
         "text": f"Duration {cfg.duration}, event {cfg.event}; Cox method {cfg.cox}.",
         "tables": [tab("cox_pfs", ratio_cols[:8] + ["hazard_ratio", "hazard_ratio_ci_lower", "hazard_ratio_ci_upper"] + ratio_cols[8:]),
                    tab("km_median_split"), tab("logrank_median_split"), tab("cutpoint")],
         "figures": fig("forest_cox") + fig("kaplan_meier")},
        {"title": "Response and survival",
         "text": res.objects.get("response_survival_text", ""),
         "tables": [tab(n) for n in ("response_landmark", "response_landmark_sweep", "response_time_dependent")
                    if n in t], "figures": []},
        {"title": "Screening the whole panel",
         "text": f"{len(t['screen_cr'])} features, each scaled as in its row; {cfg.n_perm} permutations "
                 f"(seed {cfg.seed}) for the family-wise maxT adjustment.",
         "tables": [tab("screen_cr", ["feature", "scale", "n", "n_events", "odds_ratio", "odds_ratio_ci_lower",
                                      "odds_ratio_ci_upper", "p_value", "q_value", "p_perm", "p_maxt", "method"]),
                    tab("screen_pfs", ["feature", "scale", "n", "n_events", "hazard_ratio", "hazard_ratio_ci_lower",
                                       "hazard_ratio_ci_upper", "p_value", "q_value", "p_perm", "p_maxt", "method"])],
         "figures": fig("volcano_cr") + fig("volcano_pfs")},
        {"title": "Exclusions and warnings",
         "text": "; ".join(res.warnings) if res.warnings else "No warnings were raised.",
         "tables": [tab("exclusions")], "figures": []},
    ]


def make_report(cohort, out_dir: str | Path, *, config: AnalysisConfig | None = None, inputs: dict | None = None,
                command: list[str] | None = None, pseudonymize: bool = False, title: str | None = None) -> Path:
    """Analyse ``cohort`` and write ``report.html``, ``tables/``, ``figures/`` and ``results.json``.

    Parameters
    ----------
    cohort : Cohort
    out_dir : path
    config : AnalysisConfig, optional
    inputs : dict, optional
        Table name to input path (hashed into the provenance) or a label.
    command : list of str, optional
        Recorded in the provenance.
    pseudonymize : bool
        Replace patient ids by stable codes in every output.
    title : str, optional

    Returns
    -------
    Path
        The output directory.
    """
    config = config or AnalysisConfig()
    if pseudonymize:
        cohort, _ = _pseudonymize(cohort)
    res = run_analysis(cohort, config)
    prov = provenance(inputs or {}, seed=config.seed, command=command, config=config.to_dict())
    prov["pseudonymized"] = bool(pseudonymize)
    with warnings.catch_warnings():
        # The figures redraw what run_analysis computed; its exclusions table already lists these rows.
        warnings.simplefilter("ignore", MissingDataWarning)
        figures = make_figures(res)
    pngs = {name: figure_png(f, prov) for name, (f, _) in figures.items()}
    captions = {name: cap for name, (_, cap) in figures.items()}
    for f, _ in figures.values():
        plt.close(f)
    title = title or "Baseline T-cell and NK-cell correlates of response"
    subtitle = (f"{cohort.n_patients} patients. Generated by immune_correlates "
                f"{prov['package']['immune_correlates']}.")
    html = render_report(title, subtitle, _sections(res, pngs, captions), prov)
    results = {"provenance": prov, "config": config.to_dict(), "warnings": list(res.warnings),
               "tables": {k: v for k, v in res.tables.items() if isinstance(v, pd.DataFrame)}}
    return write_outputs(out_dir, tables=res.tables, figures=pngs, results=results, html=html)
