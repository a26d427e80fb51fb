"""The ``immune-correlates`` command line.

``demo`` analyses the bundled cohort, ``analyze`` a user's files, ``simulate``
writes a synthetic cohort, ``power`` estimates power by simulation.  Bad input exits with code 2 and one line on stderr
naming the file, column, patient and value; no traceback.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

from .errors import ImmuneCorrelatesError, InputError

__all__ = ["main"]

_TABLES = ("clinical", "immunophenotype", "function_assays", "adverse_events")


def _report_options(p: argparse.ArgumentParser) -> None:
    """Options shared by ``demo`` and ``analyze``: the comparison and the terminal output."""
    p.add_argument(
        "--group",
        default=None,
        help="column of the analysis frame whose groups are compared (e.g. responder, cr, response_group)",
    )
    p.add_argument(
        "--compare",
        nargs=2,
        default=None,
        metavar=("A", "B"),
        help="the two levels of --group compared head to head (e.g. CR NR, or 1 0)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar and no printed summary")
    p.add_argument(
        "--figure-format",
        default="png",
        dest="figure_format",
        help="figure formats, comma-separated (png,pdf,svg); vector files embed their fonts",
    )


def _with_comparison(config, args):
    """``config`` with ``--group`` / ``--compare`` applied (numbers such as ``1 0`` become integers)."""
    import dataclasses

    changes = {}
    if args.group is not None:
        changes["group"] = args.group
        if args.compare is None:
            changes["compare"] = ()
    if args.compare is not None:
        changes["compare"] = tuple(int(v) if v.lstrip("-").isdigit() else v for v in args.compare)
    return dataclasses.replace(config, **changes) if changes else config


class _Progress:
    """A tqdm bar on stderr over the report's steps; silent when stderr is not a terminal or with --quiet."""

    def __init__(self, quiet: bool):
        from tqdm.auto import tqdm

        from .report.build import N_PROGRESS

        self.bar = tqdm(
            total=N_PROGRESS,
            file=sys.stderr,
            desc="report",
            unit="step",
            leave=False,
            disable=quiet or not sys.stderr.isatty(),
        )

    def __call__(self, step: str) -> None:
        self.bar.set_postfix_str(step)
        self.bar.update(1)

    def close(self) -> None:
        self.bar.close()


def _report(cohort, out, *, config, args, **kwargs):
    from .report.build import make_report

    bar = _Progress(args.quiet)
    try:
        return make_report(
            cohort, out, config=config, progress=bar, figure_formats=_figure_formats(args.figure_format), **kwargs
        )
    finally:
        bar.close()


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="immune-correlates", description="Baseline T-cell and NK-cell correlates of response in clinical trials."
    )
    sub = p.add_subparsers(dest="command", required=True)
    demo = sub.add_parser(
        "demo", help="run the whole analysis on the bundled synthetic ofatumumab + lenalidomide cohort"
    )
    demo.add_argument("--out", required=True, type=Path, help="output directory")
    demo.add_argument(
        "--pseudonymize", action="store_true", help="replace patient ids with stable codes in every output"
    )
    _report_options(demo)
    an = sub.add_parser("analyze", help="run the analysis on your files")
    an.add_argument("--clinical", type=Path, help="clinical table (CSV, TSV, XLSX or Parquet)")
    an.add_argument(
        "--immunophenotype",
        type=Path,
        nargs="+",
        help="immunophenotype table; several files are one table (e.g. baseline and on-treatment exports)",
    )
    an.add_argument(
        "--flowjo-workspace",
        type=Path,
        dest="flowjo_workspace",
        help="FlowJo 10 workspace (.wsp) instead of --immunophenotype: FlowJo's stored counts",
    )
    an.add_argument(
        "--sample-map",
        type=Path,
        dest="sample_map",
        help="sample sheet of the workspace: sample, patient_id, timepoint (beads_per_tube, sample_volume_ul)",
    )
    an.add_argument(
        "--workspace-root",
        dest="workspace_root",
        default=None,
        help="gating path, in the workspace, of the panels' Lymphocytes gate (e.g. Time/Singlets/Lymphocytes)",
    )
    an.add_argument("--bead-gate", dest="bead_gate", default=None, help="gating path of the counting-bead gate")
    an.add_argument(
        "--fcs-dir",
        type=Path,
        dest="fcs_dir",
        default=None,
        help="recompute every gate from these FCS files (needs immune_correlates[flow])",
    )
    an.add_argument(
        "--function-assays",
        type=Path,
        nargs="+",
        dest="function_assays",
        help="functional-assay table; several files are one table (e.g. baseline and on-treatment exports)",
    )
    an.add_argument("--adverse-events", type=Path, dest="adverse_events")
    an.add_argument("--config", type=Path, help="analysis.toml (data only: columns and options)")
    an.add_argument(
        "--population-counts",
        type=Path,
        dest="population_counts",
        default=None,
        help="cell counts per population (one row per baseline sample, sample_id first); adds the cell-population "
        "section (or [populations] counts in analysis.toml)",
    )
    an.add_argument("--out", required=True, type=Path)
    an.add_argument("--pseudonymize", action="store_true")
    _report_options(an)
    sim = sub.add_parser("simulate", help="write a synthetic cohort drawn from the default design")
    sim.add_argument("--out", required=True, type=Path)
    sim.add_argument("--seed", type=int, default=None)
    sim.add_argument("--n-patients", type=int, default=None, dest="n_patients")
    pw = sub.add_parser("power", help="power by simulation of a planned analysis over sample sizes and effects")
    pw.add_argument("--n", type=int, nargs="+", default=[34], help="sample sizes (default 34)")
    pw.add_argument(
        "--effect",
        type=float,
        nargs="*",
        default=None,
        help="log odds (or hazard) ratios per SD of the feature (default: the design's)",
    )
    pw.add_argument(
        "--analysis",
        default="firth",
        help="firth, firth_wald, logistic, logistic_lr, wilcoxon, cox, firth_cox, logrank, screen, screen_cox",
    )
    pw.add_argument("--feature", default="nk_function", help="driver whose effect is varied (default nk_function)")
    pw.add_argument("--n-sim", type=int, default=1000, dest="n_sim")
    pw.add_argument("--seed", type=int, default=None)
    pw.add_argument("--alpha", type=float, default=0.05)
    pw.add_argument("--out", type=Path, default=None, help="directory for power.csv and power.png")
    return p


def _power(args, argv) -> int:
    import matplotlib.pyplot as plt

    from .design import power_curve
    from .plots.power import plot_power
    from .report.writer import figure_png

    if args.n_sim < 1 or any(n < 4 for n in args.n):
        raise ImmuneCorrelatesError("power: --n-sim must be >= 1 and every --n at least 4.")
    curve = power_curve(
        None,
        args.analysis,
        n=args.n,
        effect=args.effect,
        n_sim=args.n_sim,
        seed=args.seed,
        feature=args.feature,
        alpha=args.alpha,
    )
    table = curve.summary()
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        tmp = args.out / ".power.csv.tmp"
        table.to_csv(tmp, index=False, lineterminator="\n")
        tmp.replace(args.out / "power.csv")
        fig, ax = plt.subplots(figsize=(6, 4))
        plot_power(curve, ax=ax, x="n" if len(args.n) > 1 else "effect")
        png = args.out / ".power.png.tmp"
        png.write_bytes(figure_png(fig))
        png.replace(args.out / "power.png")
        plt.close(fig)
        print(f"written to {args.out}")
    return 0


def _demo(args, argv) -> int:
    from .datasets import load_ofa_len, ofa_len_paths
    from .report.config import AnalysisConfig

    cohort = load_ofa_len()
    out = _report(
        cohort,
        args.out,
        config=_with_comparison(AnalysisConfig(), args),
        args=args,
        inputs=ofa_len_paths(on_treatment=True),
        command=["immune-correlates", *argv],
        pseudonymize=args.pseudonymize,
        title="Demo: synthetic ofatumumab + lenalidomide cohort (Vitale et al. 2016)",
    )
    if not args.quiet:
        _print_summary(cohort)
    print(f"report written to {out / 'report.html'}")
    return 0


def _figure_formats(text: str) -> tuple[str, ...]:
    from .plots._style import FIGURE_FORMATS

    formats = tuple(f.strip().lower().lstrip(".") for f in text.split(",") if f.strip())
    bad = [f for f in formats if f not in FIGURE_FORMATS]
    if bad or not formats:
        raise ImmuneCorrelatesError(
            f"--figure-format: unknown format(s) {bad or text!r}; use some of "
            f"{', '.join(FIGURE_FORMATS)}, comma-separated (e.g. png,pdf)."
        )
    return formats


def _print_summary(cohort) -> None:
    """The trial summary as people read it: 70.6% (52.5-84.9), 16.0 months (12.9-26.3)."""
    from .report.formatting import format_summary
    from .stats.groups.trial_summary import trial_summary

    print(format_summary(trial_summary(cohort)).to_string(index=False))


def _analyze(args, argv) -> int:
    from .data.cohort import read_cohort
    from .report.config import load_config

    config = _with_comparison(load_config(args.config), args)
    if args.population_counts is not None:
        import dataclasses

        config = dataclasses.replace(config, population_counts=args.population_counts)
    files = {name: _one_or_many(getattr(args, name)) or config.inputs.get(name) for name in _TABLES}
    if files["clinical"] is None:
        raise InputError("no clinical table: give --clinical or [inputs] clinical in the configuration.")
    tables = dict(files)
    if args.flowjo_workspace is not None:
        tables["immunophenotype"], files = _from_workspace(args, files)
    cohort = read_cohort(**tables, columns=config.columns or None)
    if config.population_counts is not None:
        from .report.populations import check_population_counts

        check_population_counts(cohort, config)
        files["population_counts"] = config.population_counts
    out = _report(
        cohort,
        args.out,
        config=config,
        args=args,
        inputs=files,
        command=["immune-correlates", *argv],
        pseudonymize=args.pseudonymize,
    )
    if not args.quiet:
        _print_summary(cohort)
    print(f"report written to {out / 'report.html'}")
    return 0


def _one_or_many(paths):
    """A table given as one file is its path; as several files, the list of them."""
    if isinstance(paths, list) and len(paths) == 1:
        return paths[0]
    return paths


def _from_workspace(args, files: dict):
    """The immunophenotype table read from a FlowJo workspace, and the inputs to record (hashed)."""
    from .data.flowjo_workspace import read_flowjo_workspace

    if files["immunophenotype"] is not None:
        raise InputError("give --immunophenotype or --flowjo-workspace, not both.")
    ws = read_flowjo_workspace(
        args.flowjo_workspace,
        args.sample_map,
        root=args.workspace_root,
        bead_gate=args.bead_gate,
        fcs_dir=args.fcs_dir,
        on_problem="raise",
    )
    if ws.immunophenotype is None:
        raise InputError(
            "no sample of the workspace is mapped to a patient: give --sample-map (sample, patient_id, timepoint).",
            source=args.flowjo_workspace.name,
        )
    _check_workspace_paths(ws.immunophenotype, args)
    recorded = {k: v for k, v in files.items() if k != "immunophenotype"}
    recorded.update(flowjo_workspace=args.flowjo_workspace, sample_map=args.sample_map)
    return ws.immunophenotype, recorded


def _check_workspace_paths(table, args) -> None:
    """Refuse a workspace none of whose gating paths is a population of the panel (every feature would be empty)."""
    from .features.panel import load_panel

    needed = sorted({str(f.options["path"]) for f in load_panel().features if "path" in f.options})
    have = set(table["gating_path"].astype(str))
    if not needed or have & set(needed):
        return
    root = next(
        (h[: len(h) - len(n)] + n.split("/")[0] for n in needed for h in sorted(have) if h.endswith("/" + n)), None
    )
    hint = f" (here probably --workspace-root {root!r})" if root else ""
    raise InputError(
        f"no gating path of the workspace is a population of the panel (it needs e.g. {needed[0]!r}; the "
        f"workspace has e.g. {sorted(have, key=len)[0]!r}), so every feature would be empty: give "
        f"--workspace-root, the workspace's path of the panels' Lymphocytes gate{hint}.",
        source=args.flowjo_workspace.name,
    )


def _simulate(args, argv) -> int:
    from .data.design import OFA_LEN_DESIGN
    from .design.simulate_cohort import simulate

    design = OFA_LEN_DESIGN if args.n_patients is None else OFA_LEN_DESIGN.replace(n_patients=args.n_patients)
    trial = simulate(design, seed=args.seed)
    for path in trial.write(args.out):
        print(path)
    return 0


def _one_line(exc: Exception) -> str:
    if isinstance(exc, InputError):
        if exc.problems:  # one validation pass found several: one line each
            return f"{len(exc.problems)} problems in the input; nothing was computed:\n" + "\n".join(
                f"  {p.first_line}" for p in exc.problems
            )
        return exc.first_line
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``immune-correlates`` console script; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = _parser().parse_args(argv)
    handlers = {"demo": _demo, "analyze": _analyze, "simulate": _simulate, "power": _power}
    try:
        out = getattr(args, "out", None)
        if out is not None and out.exists() and not out.is_dir():  # before any analysis, not after it
            raise ImmuneCorrelatesError(f"--out {str(out)!r} is an existing file; give a directory (new or existing).")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # warnings are collected into the report, not sprayed on the terminal
            return handlers[args.command](args, argv)
    except ImmuneCorrelatesError as exc:
        print(f"immune-correlates: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"immune-correlates: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
