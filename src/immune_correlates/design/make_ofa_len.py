"""Regenerate the bundled synthetic ofatumumab + lenalidomide cohort, byte for byte.

Run ``python -m immune_correlates.design.make_ofa_len`` to rewrite the files
in ``src/immune_correlates/datasets/ofa_len/`` (shown as ``data/ofa_len/`` at
the top of the repository), or ``--check`` to verify that the shipped files are
exactly what the code produces.

The cohort is drawn by :func:`immune_correlates.simulate` with
``exact=True`` (response categories, MRD, cycles and safety events in the
published counts) and then calibrated so that :func:`immune_correlates.trial_summary`
reproduces the published table (Vitale et al., Clin Cancer Res 2016):

1. times to progression and to death without progression are multiplied by one
   factor, and the patient at the median is moved by at most a few days, so the
   Kaplan-Meier median PFS is exactly 16.0 months (487 days);
2. survival after progression is multiplied by the factor that brings the
   Kaplan-Meier overall survival at 60 months closest to 53%.

Only event times are calibrated; the immune values, the response model and
its true effects are untouched.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from ..data.design import OFA_LEN_DESIGN
from ..data.endpoints import DAYS_PER_MONTH
from ..stats.survival.kaplan_meier import kaplan_meier
from .simulate_cohort import event_days, simulate

SEED = 20160617
TARGETS = {
    "total_cycles": 574,
    "neutropenia_cycles": 103,  # 103 / 574 = 17.9%, the published 18%
    "pneumonia_patients": 8,
    "febrile_neutropenia_patients": 3,
    "median_pfs_days": 487,  # 16 months x 30.4375
    "os_5y": 0.53,
}
OUT_DIR = Path(__file__).resolve().parents[1] / "datasets" / "ofa_len"


def _km(days: np.ndarray, events: np.ndarray):

    frame = pd.DataFrame({"t": days / DAYS_PER_MONTH, "e": events})
    return kaplan_meier(frame, "t", "e")


def _pfs(truth):
    d = event_days(truth)
    events = (d["progression_day"].notna() | d["death_day"].notna()).to_numpy().astype(int)
    return d["pfs_day"].to_numpy(), events


def _set_pfs_day(truth, idx, day):
    """Move patient ``idx``'s first event to whole day ``day`` (latent months)."""
    col = "t_progression" if truth["t_progression"].iat[idx] < truth["t_death_free"].iat[idx] else "t_death_free"
    truth.iat[idx, truth.columns.get_loc(col)] = day / DAYS_PER_MONTH


def calibrate(truth: pd.DataFrame) -> pd.DataFrame:
    """Scale the latent times so the KM median PFS and 5-year OS hit the targets."""
    truth = truth.copy()
    target = TARGETS["median_pfs_days"]
    for _ in range(6):
        days, events = _pfs(truth)
        med = _km(days, events).median()["median"].iloc[0] * DAYS_PER_MONTH
        if np.isclose(med, target, atol=1e-9):
            break
        factor = target / med
        truth["t_progression"] *= factor
        truth["t_death_free"] *= factor
    days, events = _pfs(truth)
    med = _km(days, events).median()["median"].iloc[0] * DAYS_PER_MONTH
    if not np.isclose(med, target, atol=1e-9):
        # Median on a flat step (S = 0.5 exactly) is the midpoint of two event times,
        # or one event time off by rounding: move the event time(s) at the median.
        event_times = np.unique(days[events == 1])
        lower = event_times[event_times <= med].max()
        upper = event_times[event_times >= med].min()
        if lower == upper:
            i = int(np.flatnonzero((days == lower) & (events == 1))[0])
            _set_pfs_day(truth, i, target)
        else:
            i = int(np.flatnonzero((days == upper) & (events == 1))[0])
            _set_pfs_day(truth, i, 2 * target - lower)
    post = truth["t_post_progression"].to_numpy().copy()
    best: tuple[float, float] = (1.0, np.inf)
    for b in np.geomspace(0.25, 4.0, 801):
        truth["t_post_progression"] = post * b
        d = event_days(truth)
        fit = _km(d["last_day"].to_numpy(), d["death_day"].notna().to_numpy().astype(int))
        s = fit.survival_at([60.0], extend=True)["survival"].iloc[0]
        if abs(s - TARGETS["os_5y"]) < best[1] - 1e-12:
            best = (b, abs(s - TARGETS["os_5y"]))
    truth["t_post_progression"] = post * best[0]
    return truth


def build(seed: int = SEED):
    """The calibrated :class:`~immune_correlates.design.simulate_cohort.SimulatedTrial`."""
    return simulate(
        OFA_LEN_DESIGN,
        seed=seed,
        exact=True,
        total_cycles=TARGETS["total_cycles"],
        neutropenia_cycles=TARGETS["neutropenia_cycles"],
        pneumonia_patients=TARGETS["pneumonia_patients"],
        febrile_neutropenia_patients=TARGETS["febrile_neutropenia_patients"],
        _calibrate=calibrate,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="directory to write (default: the package's)")
    parser.add_argument("--check", action="store_true", help="compare with the files in --out; write nothing")
    args = parser.parse_args(argv)
    trial = build()
    if args.check:
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            written = trial.write(tmp)
            diffs = [
                p.name
                for p in written
                if not (args.out / p.name).is_file() or (args.out / p.name).read_bytes() != p.read_bytes()
            ]
        if diffs:
            print(f"differ from the code's output: {', '.join(diffs)}", file=sys.stderr)
            return 1
        print("all files identical")
        return 0
    for p in trial.write(args.out):
        print(p)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
