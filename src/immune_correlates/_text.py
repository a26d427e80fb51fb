"""Characters that must not hide in identifiers, and how text is shown safely.

One place for the character classes used by the input validators (which reject
them in ids and other key text) and by the report writers (which make them
visible in HTML and neutralise spreadsheet formulas in CSV tables).

- *control characters*: Unicode category ``Cc`` (NUL, tab, line breaks, DEL,
  the C1 range);
- *bidirectional formatting characters* (Unicode Standard Annex #9): the
  embeddings, overrides and isolates U+202A-U+202E, U+2066-U+2069, and the
  marks U+200E, U+200F, U+061C; they reorder how text is displayed, so an id
  can look like another one ("Trojan Source", Boucher & Anderson 2021);
- *invisible characters*: zero-width space, joiners, word joiner and the byte
  order mark (U+200B-U+200D, U+2060, U+FEFF), which make two ids look equal.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

__all__ = ["hidden_characters", "any_hidden", "show_hidden", "neutralise_formula", "FORMULA_PREFIXES"]

#: Every hidden character in one class: the control characters (category ``Cc``, exactly U+0000-U+001F and
#: U+007F-U+009F, fixed by the Unicode standard), the bidirectional marks and embeddings (U+061C, U+200E,
#: U+200F, U+202A-U+202E, U+2066-U+2069) and the invisible ones (U+200B-U+200D, U+2060, U+FEFF);
#: tests/robustness pins the class against that definition over every code point.
_HIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]")

#: Leading characters that make a spreadsheet read a cell as a formula (OWASP "CSV injection").
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def hidden_characters(text: str) -> list[str]:
    """The control, bidirectional and invisible characters in ``text``, as ``U+XXXX`` names, in order.

    Examples
    --------
    >>> hidden_characters("OL\\x00001")
    ['U+0000']
    >>> hidden_characters("OL001")
    []
    """
    return [f"U+{ord(ch):04X}" for ch in _HIDDEN.findall(text)]


def any_hidden(texts: Iterable) -> bool:
    """Whether any text among ``texts`` (other values are skipped) holds a hidden character: one scan.

    Examples
    --------
    >>> any_hidden(["OL001", None, "OL\u200b002"]), any_hidden(["OL001", 3.0])
    (True, False)
    """
    return _HIDDEN.search("".join(t for t in texts if isinstance(t, str))) is not None


def show_hidden(text: str, *, keep: str = "\n") -> str:
    """``text`` with each hidden character replaced by a visible ``[U+XXXX]`` (characters in ``keep`` stay).

    Examples
    --------
    >>> show_hidden("OL\\u202e100")
    'OL[U+202E]100'
    """
    if _HIDDEN.search(text) is None:
        return text
    return _HIDDEN.sub(lambda m: m.group() if m.group() in keep else f"[U+{ord(m.group()):04X}]", text)


def _is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def neutralise_formula(text: str) -> str:
    """A text cell made safe to open in a spreadsheet (OWASP "CSV injection").

    A cell starting with ``= + - @``, a tab or a carriage return is prefixed
    with a single quote, so Excel, LibreOffice and Google Sheets show it as text
    instead of evaluating it. A cell that is a plain finite number (``-3.5``,
    ``+1e3``) is left alone: spreadsheets read it as that number, not a formula.

    Examples
    --------
    >>> neutralise_formula("=HYPERLINK(\\"http://x\\")")
    '\\'=HYPERLINK("http://x")'
    >>> neutralise_formula("-3.5")
    '-3.5'
    """
    if text.startswith(FORMULA_PREFIXES) and not _is_number(text):
        return "'" + text
    return text
