"""What a user is told (issue 23): their own column names, a clear error for a cohort too small for a
model, and no gating path with an empty gate name that silently leaves a patient's counts empty."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import immune_correlates as ic
from immune_correlates.data.gating import split_path


@pytest.fixture(scope="module")
def frame():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ic.analysis_frame(ic.datasets.load_ofa_len())


def _messages(call):
    """Every warning and error text a call produces."""
    texts = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = call()
        except ic.ImmuneCorrelatesError as e:
            texts.append(str(e))
            result = None
    texts += [str(w.message) for w in caught]
    if result is not None and hasattr(result, "excluded"):
        texts += list(result.excluded["reason"])
    return texts


@pytest.mark.parametrize(
    "call",
    [
        lambda f: ic.fit_logistic(f, "cr", ["t_function_score"], method="firth"),  # the README's call
        lambda f: ic.fit_logistic(f.assign(t_function_score=np.nan), "cr", ["t_function_score"]),  # all missing
        lambda f: ic.fit_cox(f.assign(z=np.nan), "pfs_months", "pfs_event", ["z"]),
        lambda f: ic.fit_cox(f, "pfs_months", "pfs_event", ["t_function_score", "age"]),
        lambda f: ic.fit_logistic(f.assign(z="a"), "cr", ["nk_per_ul", "z"]),  # a single-level factor
        lambda f: ic.fit_fine_gray(f, "pfs_months", "pfs_cause", ["t_function_score"]),
        lambda f: ic.detect_separation(f.assign(z=np.nan), "cr", ["z"]),
    ],
)
def test_messages_name_the_users_columns_never_an_internal_alias(frame, call):
    texts = _messages(lambda: call(frame))
    assert texts, "the call should have said something (a warning or an error)"
    for text in texts:
        assert "_ic_" not in text, text
    joined = " ".join(texts)
    assert any(col in joined for col in ("t_function_score", "'z'", "z", "nk_per_ul"))


def test_the_readme_warning_names_the_patients_and_the_column(frame):
    with pytest.warns(ic.MissingDataWarning, match=r"OL010 \(missing t_function_score\)"):
        ic.fit_logistic(frame, "cr", ["t_function_score"], method="firth")
    with pytest.raises(ic.MissingDataError, match=r"no row is complete in \['cr', 't_function_score'\]"):
        ic.fit_logistic(frame.assign(t_function_score=np.nan), "cr", ["t_function_score"])


@pytest.mark.parametrize("n", [1, 2])
def test_a_cohort_too_small_for_a_cox_model_is_a_model_error_not_a_linalg_error(frame, n):
    rows = frame.dropna(subset=["nk_per_ul"]).sort_values("pfs_event", ascending=False).head(n)
    covs = ["nk_per_ul"] if n == 1 else ["nk_per_ul", "age"]
    with pytest.raises(ic.ModelError, match=r"needs more patients than coefficients"):
        ic.fit_cox(rows, "pfs_months", "pfs_event", covs)


def test_a_cohort_too_small_for_a_logistic_model_is_a_model_error(frame):
    one = frame.dropna(subset=["nk_per_ul"]).head(1)
    with pytest.raises(ic.ModelError, match="needs both outcomes"):
        ic.fit_logistic(one, "cr", ["nk_per_ul"])
    two = pd.concat([frame[frame["cr"] == 1].head(1), frame[frame["cr"] == 0].head(1)])
    with pytest.raises(ic.ModelError, match=r"2 patient\(s\) for 2 coefficients"):
        ic.fit_logistic(two, "cr", ["nk_per_ul"], method="firth")


def test_a_one_patient_cohort_never_raises_numpy_errors_anywhere(frame):
    one = frame.dropna(subset=["nk_per_ul"]).head(1)
    for call in (
        lambda: ic.fit_cox(one, "pfs_months", "pfs_event", ["nk_per_ul"], method="firth"),
        lambda: ic.fit_logistic(one, "cr", ["nk_per_ul"], method="firth"),
        lambda: ic.fit_fine_gray(one, "pfs_months", "pfs_cause", ["nk_per_ul"]),
    ):
        with pytest.raises(ic.ImmuneCorrelatesError):
            call()


@pytest.mark.parametrize("path", ["Lymphocytes//CD3+", "Lymphocytes/CD3+/", "/Lymphocytes/CD3+", "Lymphocytes/ /CD3+"])
def test_a_gating_path_with_an_empty_gate_name_is_refused_by_name(path):
    with pytest.raises(ic.InputError, match="empty gate name"):
        split_path(path)
    cohort = ic.datasets.load_ofa_len()
    imm = cohort.immunophenotype.copy()
    row = imm.index[imm["gating_path"] == "Lymphocytes/CD3+"][0]
    patient = imm.loc[row, "patient_id"]
    imm.loc[row, "gating_path"] = path  # the patient's CD3+ row, written with a gap
    with pytest.raises(ic.InputError, match="empty gate name") as info:
        ic.derive_features(ic.read_cohort(cohort.clinical, immunophenotype=imm))
    assert info.value.column == "gating_path"
    assert info.value.rows[0]["patient_id"] == patient
