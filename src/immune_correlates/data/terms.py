"""Which CTCAE terms of the adverse-event table count as which toxicity (one place for every analysis).

Terms are compared after trimming white space and lower-casing.  Neutropenia, pneumonia and
febrile neutropenia are matched by exact term (CTCAE v4/v5 and the common synonyms); an
infection is any term of the CTCAE "Infections and infestations" kind, recognised by the words
in :data:`INFECTION_WORDS` (``"Lung infection"``, ``"Pneumonia"``, ``"Sepsis"``,
``"Herpes zoster"``, ...).  Febrile neutropenia is a blood disorder in CTCAE, not an infection.
"""

from __future__ import annotations

import pandas as pd

__all__ = [
    "NEUTROPENIA_TERMS",
    "PNEUMONIA_TERMS",
    "FEBRILE_NEUTROPENIA_TERMS",
    "INFECTION_WORDS",
    "is_term",
    "is_infection",
]

NEUTROPENIA_TERMS = ("neutrophil count decreased", "neutropenia")
PNEUMONIA_TERMS = ("pneumonia", "lung infection")
FEBRILE_NEUTROPENIA_TERMS = ("febrile neutropenia", "neutropenic fever")
#: Words that make a term an infection.
INFECTION_WORDS = (
    "infection",
    "pneumonia",
    "sepsis",
    "bronchitis",
    "cellulitis",
    "zoster",
    "herpes",
    "abscess",
    "sinusitis",
    "pharyngitis",
    "influenza",
    "colitis infectious",
)


def _text(terms: pd.Series) -> pd.Series:
    return terms.astype(str).str.strip().str.lower()


def is_term(terms: pd.Series, which: tuple[str, ...]) -> pd.Series:
    """Whether each term is one of ``which`` (compared trimmed and lower-cased).

    Examples
    --------
    >>> is_term(pd.Series([" Neutrophil count decreased", "Fatigue"]), NEUTROPENIA_TERMS).tolist()
    [True, False]
    """
    return _text(terms).isin(which)


def is_infection(terms: pd.Series) -> pd.Series:
    """Whether each term is an infection (contains one of :data:`INFECTION_WORDS`).

    Examples
    --------
    >>> is_infection(pd.Series(["Pneumonia", "Upper respiratory infection", "Febrile neutropenia"])).tolist()
    [True, True, False]
    """
    text = _text(terms)
    return text.apply(lambda t: any(w in t for w in INFECTION_WORDS)).astype(bool)
