"""split_groups: the median split the report, the Kaplan-Meier plot and the log-rank test share."""

import numpy as np
import pandas as pd
import pytest

from immune_correlates.errors import InputError
from immune_correlates.features import dichotomise, split_groups


def test_the_cut_is_the_median_of_patients_with_survival_data_and_the_groups_are_dichotomise():
    df = pd.DataFrame(
        {
            "patient_id": ["P1", "P2", "P3", "P4", "P5"],
            "nk_per_ul": [100.0, 200.0, 300.0, 400.0, 900.0],
            "t": [1.0, 2.0, 3.0, 4.0, np.nan],
            "e": [1, 0, 1, 1, 1],
        }
    )
    sg = split_groups(df, "nk_per_ul", among=["t", "e"])
    assert sg.cut == 250.0  # median of 100-400: P5 has no follow-up
    upper = dichotomise(df["nk_per_ul"], sg.cut)
    assert (sg.frame[sg.column] == sg.levels[1]).tolist() == (upper == 1.0).tolist()
    assert sg.levels == ("NK cells \u2264 median (250 cells/\u00b5L)", "NK cells > median (250 cells/\u00b5L)")
    assert dict(sg.short) == {sg.levels[0]: "\u2264 250", sg.levels[1]: "> 250"}
    given = split_groups(df, "nk_per_ul", split=300)
    assert given.levels[0] == "NK cells \u2264 300 cells/\u00b5L" and given.how == "given"


def test_a_value_that_is_not_a_number_is_named_not_treated_as_missing():
    df = pd.DataFrame({"patient_id": ["P1", "P2", "P3"], "nk_per_ul": [100.0, "n/a?", 300.0]})
    with pytest.raises(InputError, match="nk_per_ul") as err:
        split_groups(df, "nk_per_ul")
    assert err.value.rows == [{"patient_id": "P2", "value": "n/a?"}]
