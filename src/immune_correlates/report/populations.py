"""The report's cell-population section: ``[populations] counts`` in ``analysis.toml`` or ``--population-counts``.

A panel's cell counts (one row per baseline sample, ``sample_id`` first, one column per population
or cluster) are analysed three ways: which populations differ in abundance between the two
compared groups (:func:`~immune_correlates.differential_abundance`: log2 ratio of proportions,
moderated t, Benjamini-Hochberg q), and each population's centred log-ratio screened against the
binary endpoint and progression-free survival (:func:`~immune_correlates.screen_populations`,
with the report's models, adjustment and inference convention).  Samples are matched to patients
by id (``sample_column`` names the clinical column holding each patient's sample; default the
patient id); a patient without counts is left out of these tables and listed.

Pipeline step: :func:`population_tables` (called from ``pipeline``); section:
:func:`populations_section` (in ``sections.SECTIONS``); figures: :func:`population_figures`.
Shown numbers go through the report's formatting helpers (:mod:`.formatting`, :mod:`.tables`).
"""

from __future__ import annotations

import pandas as pd

from ..data.io import read_data_table
from ..errors import InputError
from ..features.labels import column_label
from ..stats.highdim.abundance import differential_abundance
from ..stats.highdim.populations import screen_populations
from .formatting import format_estimate_ci, format_number, format_p, level_label
from .tables import format_model_table

__all__ = [
    "read_population_counts",
    "check_population_counts",
    "population_tables",
    "populations_section",
    "population_figures",
]

_SCALE = {"clr": "per doubling of the centred log-ratio", "log_proportion": "per doubling of the proportion"}


def read_population_counts(path) -> pd.DataFrame:
    """The counts file as a frame indexed by ``sample_id`` (the column so named, else the first column)."""
    table = read_data_table(path)
    key = "sample_id" if "sample_id" in table.columns else table.columns[0]
    ids = table[key].astype(str).str.strip()
    return table.drop(columns=key).set_axis(pd.Index(ids, name="sample_id"), axis=0)


def _match(counts: pd.DataFrame, keys: pd.Series, source: str) -> pd.Series:
    """Patient id of each key (sample id); every sample of the counts must match one."""
    patient_of = pd.Series(keys.index, index=keys.to_numpy())
    unknown = [s for s in counts.index if s not in patient_of.index]
    if unknown:
        raise InputError(
            "these samples of the population counts match no patient of the clinical table",
            source=source,
            column="sample_id",
            rows=[{"sample_id": s} for s in unknown],
            hint="Samples are matched by id; name each patient's sample with [populations] sample_column.",
        )
    return patient_of


def _sample_keys(table: pd.DataFrame, column: str | None) -> pd.Series:
    if column is not None and column not in table.columns:
        raise InputError(f"[populations] sample_column {column!r} is not a column of the clinical data.")
    keys = table[column] if column else pd.Series(table.index, index=table.index)
    return keys.astype(str).str.strip()


def check_population_counts(cohort, config) -> None:
    """Refuse, before the run, a counts file that cannot be read or whose samples match no patient.

    The command line calls it so that bad counts stop the run with one clear error (exit code 2)
    instead of leaving the section out.
    """
    if config.population_counts is None:
        return
    counts = read_population_counts(config.population_counts)
    clinical = cohort.clinical.set_index("patient_id") if "patient_id" in cohort.clinical else cohort.clinical
    keys = _sample_keys(clinical, config.population_sample)
    _match(counts, keys, config.population_counts.name)
    from ..stats.highdim._counts import check_counts

    check_counts(counts, "population counts")


def population_tables(run, data: pd.DataFrame, covariates: list, screen_kwargs: dict) -> list[pd.DataFrame]:
    """Differential abundance and the two outcome screens (a step of :func:`.pipeline.run_analysis`).

    Adds the tables ``populations_abundance``, ``populations_cr`` and ``populations_pfs`` (when the
    endpoint can be modelled), the objects ``population_counts`` and ``population_samples``, and the
    exclusions; returns the screen tables for the pipeline's method records.  ``data`` is the
    analysis frame (one row per patient) with the adjustment covariates' columns.
    """
    cfg = run.config
    counts = read_population_counts(cfg.population_counts)
    frame = data
    keys = _sample_keys(frame, cfg.population_sample)
    patient_of = _match(counts, keys, cfg.population_counts.name)
    first, second = cfg.compare_levels(frame[cfg.group])
    samples = pd.DataFrame(
        {cfg.group: frame.loc[patient_of[counts.index].to_numpy(), cfg.group].to_numpy()}, index=counts.index
    )
    da = differential_abundance(counts, samples, group=cfg.group, levels=[second, first], alpha=cfg.alpha)
    run.tables["populations_abundance"] = da
    run.objects.update(population_counts=counts, population_samples=samples, population_levels=(first, second))
    dropped = da.attrs["excluded"]
    if len(dropped):
        who = patient_of.reindex(dropped["sample_id"]).to_numpy()
        run.exclude("populations:abundance", pd.DataFrame({"patient_id": who, "reason": dropped["reason"].to_numpy()}))
    without = [p for p in frame.index if keys[p] not in counts.index]
    if without:
        run.exclude("populations", pd.DataFrame({"patient_id": without, "reason": "no population counts"}))
    data = frame.assign(_population_sample=keys)
    screens = []
    for key, family in (("populations_cr", "logistic"), ("populations_pfs", "cox")):
        if family not in screen_kwargs:
            continue
        table = screen_populations(
            counts,
            data,
            sample_id="_population_sample",
            transform=cfg.population_transform,
            covariates=covariates,
            adjust=cfg.adjust,
            alpha=cfg.alpha,
            ci=cfg.ci,
            missing="drop",
            **screen_kwargs[family],
        )
        table.insert(1, "scale", _SCALE[cfg.population_transform])
        run.tables[key] = table.sort_values("p_value", kind="stable").reset_index(drop=True)
        screens.append(table)
    return screens


def _abundance_frame(da: pd.DataFrame, group: str, first, second, alpha: float) -> pd.DataFrame:
    rows = da.sort_values("p_value", kind="stable")
    level = f"{100 * (1 - alpha):g}% CI"
    return pd.DataFrame(
        {
            "Population": rows["population"].to_numpy(),
            f"{level_label(group, first)}: mean %": (100 * rows[f"proportion_{first}"]).map(format_number).to_numpy(),
            f"{level_label(group, second)}: mean %": (100 * rows[f"proportion_{second}"]).map(format_number).to_numpy(),
            f"Ratio ({level})": [
                format_estimate_ci(*r) for r in rows[["ratio", "ratio_ci_lower", "ratio_ci_upper"]].to_numpy(float)
            ],
            "p": rows["p_value"].map(format_p).to_numpy(),
            "q": rows["q_value"].map(format_p).to_numpy(),
        }
    )


def populations_section(res, *, note: str = "") -> dict | None:
    """The report section "Cell populations" (``None`` without population counts)."""
    cfg = res.config
    if cfg.population_counts is None:
        return None
    title = "Cell populations"
    da = res.tables.get("populations_abundance")
    if da is None:
        return {"title": title, "text": note, "tables": [], "figures": []}
    first, second = res.objects["population_levels"]
    a, b = level_label(cfg.group, first), level_label(cfg.group, second)
    n_counted = len(res.objects["population_counts"])
    relative = "the sample's typical population" if cfg.population_transform == "clr" else "all of the sample's cells"
    text = (
        f"Cell counts of {len(da)} populations in {n_counted} baseline samples ({cfg.population_counts.name}); the "
        f"abundance comparison uses the {da.attrs['n_samples']} samples of {a} and {b} patients. Abundance: the ratio "
        f"of each population's share of the sample's cells, {a} over {b} (a ratio of geometric means), from a linear "
        "model of log2 proportions with empirical-Bayes moderated t-tests, which allow for the sample-to-sample "
        "variation of counts; interval and p from the same moderated t; q: Benjamini-Hochberg across the "
        f"populations. Outcome models: one model per population, of its abundance relative to {relative} "
        f"({_SCALE[cfg.population_transform]}). " + note
    ).strip()
    tables = [
        {
            "caption": f"Population abundance, {a} versus {b}, most different first. Mean %: average share of the "
            "samples' cells.",
            "frame": _abundance_frame(da, cfg.group, first, second, cfg.alpha),
            "footnotes": [],
        }
    ]
    for key, ratio, endpoint in (
        ("populations_cr", "odds_ratio", cfg.binary),
        ("populations_pfs", "hazard_ratio", cfg.duration),
    ):
        if key in res.tables:
            frame = format_model_table(res.tables[key], ratio, alpha=cfg.alpha, ci_method=cfg.ci)
            tables.append(
                {
                    "caption": f"{column_label(endpoint)} by population abundance, one model per population.",
                    "frame": frame.rename(columns={"Feature": "Population"}),
                    "footnotes": [],
                }
            )
    return {"title": title, "text": text, "tables": tables, "figures": ["population_volcano", "population_heatmap"]}


def population_figures(res) -> dict:
    """The abundance volcano and the heatmap of the panel by group."""
    import matplotlib.pyplot as plt

    from .. import plots

    da = res.tables.get("populations_abundance")
    if da is None:
        return {}
    cfg = res.config
    first, second = res.objects["population_levels"]
    fig, ax = plt.subplots(figsize=(6.5, 4.8), layout="constrained")
    plots.abundance_volcano(da, ax=ax, fdr=0.10)
    out = {
        "population_volcano": (
            fig,
            f"Abundance of each population, {level_label(cfg.group, first)} over {level_label(cfg.group, second)} "
            "(log2 ratio of proportions) against \u2212log10 p of the moderated t; named points and the dashed "
            "line: q \u2264 0.10 (Benjamini-Hochberg).",
        )
    }
    counts, samples = res.objects["population_counts"], res.objects["population_samples"]
    used = samples[cfg.group].isin([first, second])
    order = da.sort_values("estimate")["population"].tolist()
    ax = plots.abundance_heatmap(counts[used.to_numpy()], samples[used], group=cfg.group, populations=order)
    out["population_heatmap"] = (
        ax.figure,
        "Centred log-ratio of each population (rows, ordered by the abundance ratio) in each sample (columns, "
        "grouped), in SDs from the population's mean across samples.",
    )
    return out
