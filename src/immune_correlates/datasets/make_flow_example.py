"""Synthetic FCS files and a FlowJo-10-style workspace for a few bundled patients.

``write_flow_example(out)`` writes, for the chosen patients of the bundled
``ofa_len`` cohort, one small FCS 3.1 file each (``flowio``) whose events fall
into rectangle gates exactly as the bundled ``immunophenotype.csv`` counts say,
a workspace ``ofa_len_example.wsp`` holding those gates (Gating-ML 2.0
rectangles inside FlowJo's XML, linear transforms) with FlowJo-style stored
counts, and a sample sheet.  Reading the workspace gives back the bundled
counts without the FCS files (:func:`immune_correlates.read_flowjo_workspace`),
and re-gating the FCS files reproduces them event for event (optional extra
``[flow]``).  It is a test bed for the path from a lab's files to a report, not
data to analyse.

Every population is a box in marker space: a gate is ``marker >= POS`` (positive),
``marker < NEG`` (negative) or a band, so the events of each leaf population are
drawn uniformly inside the box of its gates (seeded), and events between
``NEG`` and ``POS`` belong to neither a positive nor a negative gate, as dim
events do in real data.

Run ``python -m immune_correlates.datasets.make_flow_example OUT_DIR``.
"""

from __future__ import annotations

import argparse
import zlib
from pathlib import Path
from xml.sax.saxutils import quoteattr

import numpy as np
import pandas as pd

from .. import _seeds
from . import ofa_len_paths

__all__ = [
    "write_flow_example",
    "write_ics_example",
    "GATES",
    "CHANNELS",
    "ROOT_IN_WORKSPACE",
    "ICS_FUNCTIONS",
    "ICS_PARENT",
]

CHANNELS = ("FSC-A", "SSC-A", "CD45", "CD3", "CD4", "CD8", "CD25", "CD127", "PD-1", "CD19", "CD5", "CD56", "CD16")
NEG, POS, BRIGHT, TOP = 1000.0, 2000.0, 20000.0, 100000.0
LO, HI = (0.0, NEG), (POS, TOP)
#: workspace gating path -> {channel: (min, max)}; the path under "Leukocytes" is the panel's path
GATES: dict[str, dict[str, tuple[float, float]]] = {
    "Leukocytes": {"CD45": HI},
    "Leukocytes/Lymphocytes": {"FSC-A": LO, "SSC-A": LO},
    "Leukocytes/Lymphocytes/CD3+": {"CD3": HI},
    "Leukocytes/Lymphocytes/CD3+/CD4+": {"CD4": HI, "CD8": LO},
    "Leukocytes/Lymphocytes/CD3+/CD4+/CD25+CD127lo": {"CD25": HI, "CD127": LO},
    "Leukocytes/Lymphocytes/CD3+/CD8+": {"CD8": HI, "CD4": LO},
    "Leukocytes/Lymphocytes/CD3+/CD8+/PD-1+": {"PD-1": HI},
    "Leukocytes/Lymphocytes/CD3-": {"CD3": LO},
    "Leukocytes/Lymphocytes/CD3-/CD19+CD5+": {"CD19": HI, "CD5": HI},
    "Leukocytes/Lymphocytes/CD3-/CD56+": {"CD56": HI, "CD19": LO},
    "Leukocytes/Lymphocytes/CD3-/CD56+/CD56bright": {"CD56": (BRIGHT, TOP), "CD16": LO},
    "Leukocytes/Lymphocytes/CD3-/CD56+/CD56dim CD16+": {"CD56": (POS, BRIGHT), "CD16": HI},
}
#: channel values of events that are in a parent but in none of its children
#: (the other channels stay below NEG, which keeps an event out of every positive gate)
_OUTSIDE = {
    "Leukocytes": {"FSC-A": HI},  # large cells: not lymphocytes
    "Leukocytes/Lymphocytes": {"CD3": (NEG, POS)},  # CD3 dim: neither CD3+ nor CD3-
    "Leukocytes/Lymphocytes/CD3-/CD56+": {"CD16": LO, "CD56": (POS, BRIGHT)},
}
#: workspace path of the panel's "Lymphocytes" gate (``root=`` of read_flowjo_workspace)
ROOT_IN_WORKSPACE = "Leukocytes/Lymphocytes"


def _counts(imm: pd.DataFrame, patient: str) -> dict[str, int]:
    """Workspace path -> events, from the bundled table (Leukocytes from the root's percentage)."""
    rows = imm.loc[(imm["patient_id"] == patient) & (imm["timepoint"] == "baseline")]
    counts = {"Leukocytes/" + p: int(c) for p, c in zip(rows["gating_path"], rows["event_count"])}
    root = rows.loc[rows["gating_path"] == "Lymphocytes"].iloc[0]
    counts["Leukocytes"] = int(round(root["event_count"] / (root["freq_of_parent"] / 100)))
    return counts


def _children(path: str, gates=GATES) -> list[str]:
    """Gates directly under ``path`` ("" for the top-level gates)."""
    return [p for p in gates if (p.rsplit("/", 1)[0] if "/" in p else "") == path]


def _events(counts: dict[str, int], rng: np.random.Generator) -> np.ndarray:
    """Events whose gate memberships reproduce ``counts`` exactly (one box per leaf population)."""
    blocks = []

    def fill(path: str, n: int, box: dict[str, tuple[float, float]]) -> None:
        kids = _children(path)
        used = 0
        for kid in kids:
            fill(kid, counts[kid], {**box, **GATES[kid]})
            used += counts[kid]
        rest = n - used
        if rest < 0:
            raise ValueError(f"children of {path} hold more events than it does")
        if rest:
            blocks.append(_box(rest, {**box, **_OUTSIDE.get(path, {})}, rng))

    total = counts["Leukocytes"]
    debris = int(round(total * 0.05))
    fill("Leukocytes", total, dict(GATES["Leukocytes"]))
    blocks.append(_box(debris, {"CD45": LO}, rng))  # below the leukocyte gate
    events = np.vstack(blocks)
    return events[rng.permutation(len(events))]


def _box(n: int, box: dict[str, tuple[float, float]], rng: np.random.Generator, channels=CHANNELS) -> np.ndarray:
    out = np.empty((n, len(channels)))
    for j, ch in enumerate(channels):
        lo, hi = box.get(ch, LO)
        out[:, j] = rng.uniform(lo + 1.0, hi - 1.0, n)  # never on a gate boundary
    return np.round(out, 1).astype(np.float32)


def _gate_xml(path: str, counts: dict[str, int], indent: str, gates=GATES) -> str:
    name = path.rsplit("/", 1)[-1]
    dims = "".join(
        f'{indent}      <gating:dimension gating:min="{lo:g}" gating:max="{hi:g}">'
        f"<data-type:fcs-dimension data-type:name={quoteattr(ch)}/></gating:dimension>\n"
        for ch, (lo, hi) in gates[path].items()
    )
    kids = "".join(_gate_xml(k, counts, indent + "    ", gates) for k in _children(path, gates))
    sub = f"{indent}  <Subpopulations>\n{kids}{indent}  </Subpopulations>\n" if kids else ""
    return (
        f'{indent}<Population name={quoteattr(name)} owningGroup="" count="{counts[path]}">\n'
        f'{indent}  <Gate gating:id="ID{zlib.crc32(path.encode())}">\n'
        f'{indent}    <gating:RectangleGate eventsInside="1">\n{dims}'
        f"{indent}    </gating:RectangleGate>\n{indent}  </Gate>\n{sub}{indent}</Population>\n"
    )


def _workspace(samples: list[tuple[int, str, dict[str, int], int]], gates=GATES, channels=CHANNELS) -> str:
    ns = (
        'xmlns:gating="http://www.isac-net.org/std/Gating-ML/v2.0/gating" '
        'xmlns:transforms="http://www.isac-net.org/std/Gating-ML/v2.0/transformations" '
        'xmlns:data-type="http://www.isac-net.org/std/Gating-ML/v2.0/datatypes"'
    )
    refs = "".join(f'<SampleRef sampleID="{i}"/>' for i, *_ in samples)
    body = []
    for i, fname, counts, n_events in samples:
        xforms = "".join(
            f'<transforms:linear transforms:minRange="0" transforms:maxRange="{TOP:g}">'
            f"<data-type:parameter data-type:name={quoteattr(ch)}/></transforms:linear>"
            for ch in channels
        )
        keywords = f'<Keyword name="$FIL" value={quoteattr(fname)}/><Keyword name="$TOT" value="{n_events}"/>'
        body.append(
            f'    <Sample>\n      <DataSet uri={quoteattr("file:" + fname)} sampleID="{i}"/>\n'
            f"      <Transformations>{xforms}</Transformations>\n      <Keywords>{keywords}</Keywords>\n"
            f'      <SampleNode name={quoteattr(fname)} owningGroup="" count="{n_events}" sampleID="{i}">\n'
            f"        <Subpopulations>\n{''.join(_gate_xml(top, counts, '          ', gates) for top in _children('', gates))}"
            f"        </Subpopulations>\n      </SampleNode>\n    </Sample>\n"
        )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<Workspace version="20.0" flowJoVersion="10.8.1" {ns}>\n'
        f'  <Groups><GroupNode name="All Samples" count="-1"><Group name="All Samples">'
        f"<SampleRefs>{refs}</SampleRefs></Group></GroupNode></Groups>\n"
        f"  <SampleList>\n{''.join(body)}  </SampleList>\n</Workspace>\n"
    )


def write_flow_example(out, patients=("OL001", "OL002", "OL003"), *, seed: int = 20161126) -> dict[str, Path]:
    """Write FCS files, a workspace and a sample sheet for ``patients`` of the bundled cohort.

    Parameters
    ----------
    out : str or Path
        Folder to write into (created).
    patients : sequence of str
        Bundled patient ids (baseline samples).
    seed : int
        Seed of the event draws (same seed, same bytes).

    Returns
    -------
    dict with ``workspace``, ``fcs_dir`` and ``sample_map`` paths.

    Examples
    --------
    >>> paths = write_flow_example("/tmp/flow_example", ["OL001"])   # doctest: +SKIP
    """
    import flowio

    out = Path(out)
    fcs_dir = out / "fcs"
    fcs_dir.mkdir(parents=True, exist_ok=True)
    imm = pd.read_csv(ofa_len_paths()["immunophenotype"], dtype={"patient_id": str})
    rng = _seeds.rng(seed)
    samples, sheet = [], []
    for i, patient in enumerate(patients, start=1):
        counts = _counts(imm, patient)
        events = _events(counts, rng)
        fname = f"{patient}_baseline.fcs"
        with open(fcs_dir / fname, "wb") as fh:
            flowio.create_fcs(
                fh,
                events.ravel().tolist(),
                list(CHANNELS),
                metadata_dict={"PATIENT_ID": patient, "TIMEPOINT": "baseline"},
            )
        samples.append((i, fname, counts, len(events)))
        sheet.append({"sample": fname, "patient_id": patient, "timepoint": "baseline"})
    workspace = out / "ofa_len_example.wsp"
    workspace.write_text(_workspace(samples), encoding="utf-8")
    sample_map = out / "sample_sheet.csv"
    pd.DataFrame(sheet).to_csv(sample_map, index=False)
    return {"workspace": workspace, "fcs_dir": fcs_dir, "sample_map": sample_map}


#: intracellular cytokine tube: CD8 T cells and three functions (overlapping sibling gates)
ICS_CHANNELS = ("FSC-A", "SSC-A", "CD3", "CD8", "CD107a", "IFNg", "TNFa")
ICS_FUNCTIONS = ("CD107a", "IFNg", "TNFa")
ICS_PARENT = "Lymphocytes/CD3+/CD8+"
ICS_GATES: dict[str, dict[str, tuple[float, float]]] = {
    "Lymphocytes": {"FSC-A": LO, "SSC-A": LO},
    "Lymphocytes/CD3+": {"CD3": HI},
    ICS_PARENT: {"CD8": HI},
    **{f"{ICS_PARENT}/{f}+": {f: HI} for f in ICS_FUNCTIONS},
}


def _ics_well(rng: np.random.Generator, stimulated: bool, responder: bool):
    """Events of one well and the Boolean subset counts of its CD8 T cells (the truth)."""
    signs = [tuple(bool(int(b)) for b in f"{i:03b}") for i in range(8)]
    counts = {}
    for sg in signs:
        degree = sum(sg)
        mean = 4 + (40 * degree if stimulated and responder and degree else 0)
        counts[sg] = int(rng.poisson(mean)) if degree else 0
    n_cd8 = int(rng.integers(4000, 6000))
    counts[(False,) * 3] = n_cd8 - sum(counts.values())
    lymph = {"FSC-A": LO, "SSC-A": LO}
    blocks = [
        _box(int(rng.integers(500, 1500)), {"FSC-A": HI}, rng, ICS_CHANNELS),  # not lymphocytes
        _box(int(rng.integers(3000, 5000)), {**lymph, "CD3": LO}, rng, ICS_CHANNELS),  # CD3-
        _box(int(rng.integers(2000, 4000)), {**lymph, "CD3": HI}, rng, ICS_CHANNELS),
    ]  # CD3+ CD8-
    for sg, n in counts.items():
        box = {**lymph, "CD3": HI, "CD8": HI, **{f: (HI if on else LO) for f, on in zip(ICS_FUNCTIONS, sg)}}
        blocks.append(_box(n, box, rng, ICS_CHANNELS))
    events = np.vstack(blocks)
    events = events[rng.permutation(len(events))]
    gate_counts = {
        "Lymphocytes": len(events) - len(blocks[0]),
        "Lymphocytes/CD3+": len(events) - len(blocks[0]) - len(blocks[1]),
        ICS_PARENT: n_cd8,
    }
    for i, f in enumerate(ICS_FUNCTIONS):
        gate_counts[f"{ICS_PARENT}/{f}+"] = sum(n for sg, n in counts.items() if sg[i])
    truth = [
        {
            "subset": " ".join(f"{f}{'+' if on else '-'}" for f, on in zip(ICS_FUNCTIONS, sg)),
            "count": n,
            "parent_count": n_cd8,
        }
        for sg, n in counts.items()
    ]
    return events, gate_counts, truth


def write_ics_example(
    out, patients=("OL001", "OL002", "OL003"), *, responders=("OL001", "OL002"), seed: int = 20161126
) -> dict[str, Path]:
    """Write a stimulated and an unstimulated ICS tube per patient, their workspace and sample sheet.

    Each tube holds CD8 T cells whose CD107a / IFN-gamma / TNF Boolean subsets have
    known counts (``truth``; responders respond to stimulation), gated in the
    workspace by three overlapping rectangle gates under ``CD8+``.

    Returns
    -------
    dict with ``workspace``, ``fcs_dir``, ``sample_map`` (with ``condition`` and
    ``cell_type`` columns) and ``truth`` (the Boolean subset counts, in the layout
    of :func:`immune_correlates.ics_functions`).
    """
    import flowio

    out = Path(out)
    fcs_dir = out / "fcs"
    fcs_dir.mkdir(parents=True, exist_ok=True)
    rng = _seeds.rng(seed)
    samples: list[tuple[int, str, dict[str, int], int]] = []
    sheet: list[dict] = []
    truth: list[dict] = []
    for patient in patients:
        for condition in ("unstimulated", "stimulated"):
            events, gate_counts, subsets = _ics_well(rng, condition == "stimulated", patient in responders)
            fname = f"{patient}_baseline_ICS_{condition}.fcs"
            with open(fcs_dir / fname, "wb") as fh:
                flowio.create_fcs(fh, events.ravel().tolist(), list(ICS_CHANNELS))
            samples.append((len(samples) + 1, fname, gate_counts, len(events)))
            row = {"patient_id": patient, "timepoint": "baseline", "cell_type": "CD8 T", "condition": condition}
            sheet.append({"sample": fname, **row})
            truth += [{**row, **t} for t in subsets]
    workspace = out / "ofa_len_ics_example.wsp"
    workspace.write_text(_workspace(samples, ICS_GATES, ICS_CHANNELS), encoding="utf-8")
    sample_map = out / "ics_sample_sheet.csv"
    pd.DataFrame(sheet).to_csv(sample_map, index=False)
    return {"workspace": workspace, "fcs_dir": fcs_dir, "sample_map": sample_map, "truth": pd.DataFrame(truth)}


def main(argv=None) -> None:  # pragma: no cover - thin command-line wrapper
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--patients", nargs="+", default=["OL001", "OL002", "OL003"])
    parser.add_argument("--seed", type=int, default=20161126)
    args = parser.parse_args(argv)
    for key, path in write_flow_example(args.out, args.patients, seed=args.seed).items():
        print(f"{key}: {path}")


if __name__ == "__main__":  # pragma: no cover
    main()
