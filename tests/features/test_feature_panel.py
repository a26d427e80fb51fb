"""Panels as data (TOML or dict), their validation, and the feature catalogue."""

import numpy as np
import pytest

from immune_correlates.errors import ConfigError
from immune_correlates.features import (
    build_features,
    default_panel,
    derive_features,
    feature_catalogue,
    load_panel,
)


def test_default_panel_has_the_api_features_with_documented_paths():
    panel = default_panel()
    assert panel.name == "cll_default"
    for name, path in [
        ("cd3_per_ul", "Lymphocytes/CD3+"),
        ("cd4_per_ul", "Lymphocytes/CD3+/CD4+"),
        ("cd8_per_ul", "Lymphocytes/CD3+/CD8+"),
        ("nk_per_ul", "Lymphocytes/CD3-/CD56+"),
        ("treg_per_ul", "Lymphocytes/CD3+/CD4+/CD25+CD127lo"),
        ("nk_cd56dim_cd16_per_ul", "Lymphocytes/CD3-/CD56+/CD56dim CD16+"),
    ]:
        assert panel[name].kind == "count" and panel[name]["path"] == path
        assert panel[name]["method"] == "auto"
    assert panel["cd4_cd8_ratio"].kind == "ratio"
    assert panel["t_function_score"]["inhibitory"] == ("pd1_pct_of_cd8",)
    assert load_panel(None) == panel


def test_custom_toml_panel_is_used(tmp_path, cohort):
    path = tmp_path / "mine.toml"
    path.write_text(
        'name = "mine"\n'
        '[features.t_cells]\nkind = "count"\npath = "Lymphocytes/CD3+"\nmethod = "dual"\n'
        '[features.nk_share]\nkind = "frequency"\npath = "Lymphocytes/CD3-/CD56+"\n'
        'of = "Lymphocytes/CD3-"\n',
        encoding="utf-8",
    )
    values = derive_features(cohort, panel=path)
    assert list(values.columns) == ["t_cells", "nk_share"]
    # P2 forced dual: 5.0 x 1000 x 40% = 2000 cells/uL; NK share of CD3- for P2 = 10%
    assert values.at["P2", "t_cells"] == pytest.approx(2000.0, rel=1e-12)
    assert values.at["P2", "nk_share"] == pytest.approx(10.0, rel=1e-12)


def test_dict_panel_maps_names_to_gating_paths(cohort):
    fs = build_features(cohort, panel={"cd8": "Lymphocytes/CD3+/CD8+"})
    assert fs.panel["cd8"].kind == "count" and fs.panel["cd8"]["method"] == "auto"
    np.testing.assert_allclose(fs.values["cd8"].to_numpy(), [300.0, 960.0, np.nan, np.nan])


@pytest.mark.parametrize(
    "raw, message",
    [
        ({"x": {"kind": "counts", "path": "A"}}, "kind 'counts'"),
        ({"x": {"kind": "count"}}, "needs key 'path'"),
        ({"x": {"kind": "count", "path": "A", "method": "trucount"}}, "method = 'trucount'"),
        ({"x": {"kind": "count", "path": "A", "gate": "B"}}, "unknown key"),
        ({"x": {"kind": "count", "path": 3}}, "path = 3"),
        ({"x": {"kind": "lytic_units", "assay": "adcc", "cell_type": "NK", "percent": 0}}, "must be positive"),
        ({"x": {"kind": "composite", "readouts": ["y"]}}, "'y', which is not in the panel"),
        (
            {"x": {"kind": "count", "path": "A"}, "s": {"kind": "composite", "readouts": ["x"], "inhibitory": ["z"]}},
            "inhibitory",
        ),
        (
            {
                "f": {"kind": "function", "assay": "ifng", "cell_type": "NK"},
                "c": {"kind": "functional_count", "readout": "f", "count": "f"},
            },
            "must be of kind count",
        ),
        ({}, "defines no features"),
        ({"x": 5}, "must be a table"),
    ],
)
def test_invalid_panels_raise_config_errors_naming_feature_and_key(raw, message):
    with pytest.raises(ConfigError, match=message):
        load_panel(raw)


def test_invalid_toml_file_is_a_config_error_naming_the_file(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text("[features.x\nkind = 'count'", encoding="utf-8")
    with pytest.raises(ConfigError, match="broken.toml"):
        load_panel(path)
    with pytest.raises(ConfigError, match="not found"):
        load_panel(tmp_path / "absent.toml")


def test_catalogue_has_one_row_per_feature_with_kind_unit_and_sources():
    cat = feature_catalogue().set_index("feature")
    assert list(cat.columns) == ["lineage", "kind", "recipe", "unit", "formula", "sources", "description", "label"]
    assert cat.at["nk_per_ul", "label"] == "NK cells" and cat.at["nk_function_score", "unit"] == "z-score"
    assert cat.at["cd3_per_ul", "kind"] == "count" and cat.at["cd3_per_ul", "unit"] == "cells/uL"
    assert cat.at["cd3_per_ul", "sources"] == "Lymphocytes/CD3+"
    assert cat.at["cd4_cd8_ratio", "kind"] == "ratio"
    assert cat.at["nk_adcc_lu20", "kind"] == "function"
    assert cat.at["nk_adcc_lu20", "unit"] == "LU20 per 1e+07 effectors"
    assert cat.at["t_function_score", "kind"] == "composite"
    assert "-pd1_pct_of_cd8" in cat.at["t_function_score", "sources"]
    assert cat.at["nk_function_score", "lineage"] == "NK"
    assert set(cat["kind"]) == {"count", "frequency", "ratio", "function", "composite"}
