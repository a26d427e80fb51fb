"""Nothing from a data or configuration file is ever run as code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import immune_correlates as ic
from immune_correlates.report.config import load_config

SRC = Path(ic.__file__).resolve().parent


def test_package_source_has_no_eval_exec_or_pickle_loading():
    pattern = re.compile(r"\b(eval|exec)\s*\(|\bpickle\b|\bmarshal\.loads|yaml\.load\(|\bshelve\b")
    offenders = []
    for path in SRC.rglob("*.py"):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            if pattern.search(code):
                offenders.append(f"{path.relative_to(SRC)}:{number}: {line.strip()}")
    assert offenders == []


@pytest.mark.parametrize(
    "payload",
    [
        {"analysis": {"seed": "__import__('os').system('touch /tmp/pwned')"}},
        {"features": {"names": "cd3_per_ul; rm -rf /"}},
        {"models": {"covariates": [{"$eval": "1"}]}},
    ],
)
def test_config_values_are_type_checked_data(payload):
    with pytest.raises(ic.ConfigError):
        load_config(payload)


def test_config_paths_cannot_escape_the_config_directory(tmp_path):
    cfg = tmp_path / "sub" / "analysis.toml"
    cfg.parent.mkdir()
    cfg.write_text('[inputs]\nclinical = "/etc/passwd"\n')
    with pytest.raises(ic.ConfigError, match="leaves the configuration's directory"):
        load_config(cfg)
    cfg.write_text('[inputs]\nclinical = "data/../../outside.csv"\n')
    with pytest.raises(ic.ConfigError, match="leaves the configuration's directory"):
        load_config(cfg)
    cfg.write_text('[inputs]\nclinical = "data/clinical.csv"\n')
    assert load_config(cfg).inputs["clinical"] == (cfg.parent / "data" / "clinical.csv").resolve()


def test_warnings_point_at_the_users_line():
    import warnings

    frame = ic.analysis_frame(ic.datasets.load_ofa_len())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ic.fit_logistic(frame, "cr", ["t_function_score"], method="firth")
    ours = [w for w in caught if issubclass(w.category, ic.ImmuneCorrelatesWarning)]
    assert ours and all(w.filename == __file__ for w in ours)


def test_the_hidden_character_class_is_its_definition_over_every_code_point():
    """Control characters (category Cc), the bidirectional marks and the invisible characters, nothing else."""
    import sys
    import unicodedata

    from immune_correlates._text import any_hidden, hidden_characters, show_hidden

    bidi = set("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
    invisible = set("\u200b\u200c\u200d\u2060\ufeff")
    everything = "".join(chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF)
    expected = [f"U+{ord(ch):04X}" for ch in everything if unicodedata.category(ch) == "Cc" or ch in bidi | invisible]
    assert hidden_characters(everything) == expected
    assert len(expected) == 65 + len(bidi) + len(invisible)
    assert any_hidden(["OL001", None, 3.0, "OL\u2066"]) and not any_hidden(["OL001", None, 3.0])
    assert show_hidden("a\nb\u202ec", keep="\n") == "a\nb[U+202E]c"
    assert show_hidden("a\nb", keep="") == "a[U+000A]b"
