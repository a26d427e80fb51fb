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


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="immune-correlates",
                                description="Baseline T-cell and NK-cell correlates of response in clinical trials.")
    sub = p.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="run the whole analysis on the bundled synthetic ofatumumab + lenalidomide cohort")
    demo.add_argument("--out", required=True, type=Path, help="output directory")
    demo.add_argument("--pseudonymize", action="store_true", help="replace patient ids with stable codes in every output")
    demo.add_argument("--figure-format", default="png", dest="figure_format",
                      help="figure formats, comma-separated (png,pdf,svg); vector files embed their fonts")
    an = sub.add_parser("analyze", help="run the analysis on your files")
    an.add_argument("--clinical", type=Path, help="clinical table (CSV, TSV, XLSX or Parquet)")
    an.add_argument("--immunophenotype", type=Path)
    an.add_argument("--function-assays", type=Path, dest="function_assays")
    an.add_argument("--adverse-events", type=Path, dest="adverse_events")
    an.add_argument("--config", type=Path, help="analysis.toml (data only: columns and options)")
    an.add_argument("--out", required=True, type=Path)
    an.add_argument("--pseudonymize", action="store_true")
    an.add_argument("--figure-format", default="png", dest="figure_format", help="e.g. png,pdf")
    sim = sub.add_parser("simulate", help="write a synthetic cohort drawn from the default design")
    sim.add_argument("--out", required=True, type=Path)
    sim.add_argument("--seed", type=int, default=None)
    sim.add_argument("--n-patients", type=int, default=None, dest="n_patients")
    pw = sub.add_parser("power", help="power by simulation of a planned analysis over sample sizes and effects")
    pw.add_argument("--n", type=int, nargs="+", default=[34], help="sample sizes (default 34)")
    pw.add_argument("--effect", type=float, nargs="*", default=None,
                    help="log odds (or hazard) ratios per SD of the feature (default: the design's)")
    pw.add_argument("--analysis", default="firth",
                    help="firth, firth_wald, logistic, logistic_lr, wilcoxon, cox, firth_cox, logrank, screen, screen_cox")
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
    curve = power_curve(None, args.analysis, n=args.n, effect=args.effect, n_sim=args.n_sim, seed=args.seed,
                        feature=args.feature, alpha=args.alpha)
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
    from .report.build import make_report

    cohort = load_ofa_len()
    out = make_report(cohort, args.out, inputs=ofa_len_paths(), command=["immune-correlates", *argv],
                      pseudonymize=args.pseudonymize, figure_formats=_figure_formats(args.figure_format),
                      title="Demo: synthetic ofatumumab + lenalidomide cohort (Vitale et al. 2016)")
    _print_summary(cohort)
    print(f"report written to {out / 'report.html'}")
    return 0


def _figure_formats(text: str) -> tuple[str, ...]:
    from .plots._style import FIGURE_FORMATS

    formats = tuple(f.strip().lower().lstrip(".") for f in text.split(",") if f.strip())
    bad = [f for f in formats if f not in FIGURE_FORMATS]
    if bad or not formats:
        raise ImmuneCorrelatesError(f"--figure-format: unknown format(s) {bad or text!r}; use some of "
                                    f"{', '.join(FIGURE_FORMATS)}, comma-separated (e.g. png,pdf).")
    return formats


def _print_summary(cohort) -> None:
    from .data.summary import trial_summary

    s = trial_summary(cohort)
    print(s.to_string(float_format=lambda v: f"{v:.3f}"))


def _analyze(args, argv) -> int:
    from .data.cohort import read_cohort
    from .report.build import make_report
    from .report.config import load_config

    config = load_config(args.config)
    files = {name: getattr(args, name) or config.inputs.get(name) for name in _TABLES}
    if files["clinical"] is None:
        raise InputError("no clinical table: give --clinical or [inputs] clinical in the configuration.")
    cohort = read_cohort(**files)
    out = make_report(cohort, args.out, config=config, inputs=files, command=["immune-correlates", *argv],
                      pseudonymize=args.pseudonymize, figure_formats=_figure_formats(args.figure_format))
    print(f"report written to {out / 'report.html'}")
    return 0


def _simulate(args, argv) -> int:
    from .data.design import OFA_LEN_DESIGN
    from .data.simulate import simulate

    design = OFA_LEN_DESIGN if args.n_patients is None else OFA_LEN_DESIGN.replace(n_patients=args.n_patients)
    trial = simulate(design, seed=args.seed)
    for path in trial.write(args.out):
        print(path)
    return 0


def _one_line(exc: Exception) -> str:
    if isinstance(exc, InputError):
        return exc.first_line
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``immune-correlates`` console script; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = _parser().parse_args(argv)
    handlers = {"demo": _demo, "analyze": _analyze, "simulate": _simulate, "power": _power}
    try:
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
