"""Re-gating from FCS (optional extra immune_correlates[flow]): FlowJo's stored counts and the
Gating-ML 2.0 compliance truth files, event by event.

FlowKit pins pandas < 3, so CI runs this folder in a second environment with the extra
(`.ci/run`); in the main environment it is skipped."""

import os
import warnings
from pathlib import Path

import numpy as np
import pytest

flowkit = pytest.importorskip("flowkit")

# imported after the skip above: the module needs FlowKit (the [flow] extra)
from immune_correlates import read_flowjo_workspace  # noqa: E402
from immune_correlates.data.regate import gatingml_membership  # noqa: E402

FLOWKIT = next(
    (
        p / "shared" / "data" / "flowkit" / "data"
        for p in Path(__file__).resolve().parents[2].parents
        if (p / "shared" / "data" / "flowkit" / "data").is_dir()
    ),
    None,
)
if FLOWKIT is None:
    if os.environ.get("CI"):
        raise RuntimeError("FlowKit test data (../shared/data/flowkit) missing")
    pytest.skip("../shared/data/flowkit not present", allow_module_level=True)
DIAMOND = FLOWKIT / "simple_diamond_example"
LINE = FLOWKIT / "simple_line_example"
GML = FLOWKIT / "gate_ref"


def regate(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ws = read_flowjo_workspace(path, fcs_dir=path.parent)
    # the populations table carries the recomputed counts
    pops = ws.populations.set_index(["sample", "gating_path"])["event_count"]
    conc = ws.concordance.set_index(["sample", "gating_path"])
    assert pops.reindex(conc.index).equals(conc["recomputed_count"])
    return ws.concordance


@pytest.mark.parametrize(
    "name, counts",
    [
        ("simple_diamond_example_quad_gate.wsp", [49671, 50596, 50330, 49403]),
        ("test_data_diamond_biex_rect.wsp", [50605]),
        ("test_data_diamond_asinh_rect.wsp", [50559]),
        ("test_data_diamond_asinh_rect2.wsp", [50699]),
    ],
)
def test_rectangles_and_quadrants_reproduce_flowjo_exactly(name, counts):
    out = regate(DIAMOND / name)
    assert out["recomputed_count"].tolist() == counts == out["stored_count"].tolist()
    assert set(out["status"]) == {"agree"}


def test_stale_polygon_count_is_flagged():
    out = regate(LINE / "simple_poly_and_rect_v2_poly50.wsp").set_index("gating_path")
    assert out.loc["poly1", "stored_count"] == 0 and out.loc["poly1", "recomputed_count"] == 50
    assert out.loc["poly1", "status"] == "differs (binned gate)"
    assert out.loc["rect1", "status"] == "agree"
    never = regate(LINE / "simple_poly_and_rect.wsp")
    assert set(never["status"]) == {"stored count missing"}
    # with the FCS file the never-computed counts are no longer problems: the recomputed ones are used
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ws = read_flowjo_workspace(LINE / "simple_poly_and_rect.wsp", fcs_dir=LINE, on_problem="raise")
    assert ws.populations["event_count"].tolist() == [0, 0] and ws.problems.empty
    ellipse = regate(LINE / "single_ellipse_51_events.wsp")
    assert ellipse["recomputed_count"].tolist() == [51] and ellipse["status"].tolist() == ["agree"]


def test_missing_fcs_file_is_named(tmp_path):
    from immune_correlates.errors import InputError

    with pytest.raises(InputError, match="test_data_diamond_01.fcs"):
        read_flowjo_workspace(DIAMOND / "test_data_diamond_biex_rect.wsp", fcs_dir=tmp_path)


def test_gatingml_truth_files_event_by_event():
    truth = {p.stem.removeprefix("Results_"): p for p in (GML / "truth").glob("Results_*.txt")}
    assert len(truth) == 51
    members = gatingml_membership(GML / "gml" / "gml_all_gates.xml", GML / "data1.fcs")
    extra = {
        "Ellipsoid3D": ("gml_ellipsoid3d_gate.xml", "Ellipsoid3D"),
        "ParQuadRect": ("gml_parent_quadrant_rect_gate.xml", "ParRectangle1"),
    }
    for name, path in sorted(truth.items()):
        want = np.loadtxt(path).astype(bool)
        if name in extra:
            xml, gate = extra[name]
            got = gatingml_membership(GML / "gml" / xml, GML / "data1.fcs")[gate]
        else:
            got = members[name]
        assert np.array_equal(got.to_numpy(), want), name


def test_synthetic_set_regates_to_the_bundled_counts(tmp_path):
    from immune_correlates.datasets.make_flow_example import ROOT_IN_WORKSPACE, write_flow_example

    paths = write_flow_example(tmp_path, ["OL001", "OL002"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stored = read_flowjo_workspace(paths["workspace"], paths["sample_map"], root=ROOT_IN_WORKSPACE)
        ws = read_flowjo_workspace(
            paths["workspace"], paths["sample_map"], root=ROOT_IN_WORKSPACE, fcs_dir=paths["fcs_dir"]
        )
    assert set(ws.concordance["status"]) == {"agree"} and len(ws.concordance) == 24
    assert ws.immunophenotype.equals(stored.immunophenotype)


def test_boolean_subsets_counted_from_fcs_feed_ics_functions(tmp_path):
    from immune_correlates import ics_functions
    from immune_correlates.data.regate import boolean_subset_counts
    from immune_correlates.datasets.make_flow_example import ICS_PARENT, write_ics_example

    paths = write_ics_example(tmp_path, ["OL001", "OL003"], responders=["OL001"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = boolean_subset_counts(
            paths["workspace"],
            paths["fcs_dir"],
            paths["sample_map"],
            parent=ICS_PARENT,
            functions=["CD107a+", "IFNg+", "TNFa+"],
        )
        stored = read_flowjo_workspace(paths["workspace"])  # ICS tubes: two per patient, not phenotype rows
    keys = ["patient_id", "condition", "subset"]
    truth = paths["truth"].sort_values(keys).reset_index(drop=True)
    got = got.sort_values(keys).reset_index(drop=True)
    assert got[keys + ["count", "parent_count"]].equals(truth[keys + ["count", "parent_count"]])
    # the stored single-function counts are the marginals of the subsets
    marg = stored.populations.set_index(["sample", "gating_path"])["event_count"]
    fname = "OL001_baseline_ICS_stimulated.fcs"
    stim = got.loc[(got["patient_id"] == "OL001") & (got["condition"] == "stimulated")]
    assert marg[(fname, f"{ICS_PARENT}/IFNg+")] == stim.loc[stim["subset"].str.contains("IFNg\\+"), "count"].sum()
    res = ics_functions(got.assign(cell_type="CD8 T"), adjust="fdr_bh")
    # (unadjusted, OL003's CD107a+ IFNg- TNFa+ subset has p = 0.049 by chance: adjust within the sample)
    assert res.polyfunctionality.set_index("patient_id")["positive"].to_dict() == {"OL001": True, "OL003": False}
    assert res.summary().equals(ics_functions(paths["truth"], adjust="fdr_bh").summary())
