"""Provenance of every output: versions, input checksums, seed and command."""

from __future__ import annotations

import hashlib
import platform
import sys
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

__all__ = ["provenance", "sha256_file", "DEPENDENCIES", "public_command"]

DEPENDENCIES = ("numpy", "scipy", "pandas", "statsmodels", "scikit-learn", "matplotlib", "seaborn", "jinja2", "joblib")


def sha256_file(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def public_command(command) -> list[str]:
    """The command line with every path reduced to its file name (no directories leak into outputs).

    Examples
    --------
    >>> public_command(["immune-correlates", "analyze", "--clinical", "/home/ana/trial/clinical.csv",
    ...                 "--out=/home/ana/out"])
    ['immune-correlates', 'analyze', '--clinical', 'clinical.csv', '--out=out']
    """
    out = []
    for arg in map(str, command):
        key, sep, value = arg.partition("=") if arg.startswith("--") else ("", "", arg)
        if "/" in value or "\\" in value:
            value = Path(value.replace("\\", "/")).name
        out.append(f"{key}{sep}{value}")
    return out


def _input_record(src) -> dict:
    """A file's name and SHA-256, or the label of an input that is not a file."""
    path = Path(src)
    return {"file": path.name, "sha256": sha256_file(path)} if path.is_file() else {"source": public_command([src])[0]}


def provenance(inputs: dict, *, seed: int | None, command: list[str] | None = None, config: dict | None = None) -> dict:
    """A JSON-ready record of how an output was made.

    Parameters
    ----------
    inputs : dict
        Table name to path (hashed), to a list of paths (a table in several files: one
        record each) or to a label such as ``"bundled ofa_len"``.
    seed : int or None
    command : list of str, optional
        The command line (defaults to ``sys.argv``); paths are reduced to file
        names (:func:`public_command`), as are inputs: only names and SHA-256
        hashes are recorded, never directories.
    config : dict, optional
        The analysis configuration.
    """
    files: dict = {}
    for name, src in inputs.items():
        if src is None:
            continue
        records = [_input_record(part) for part in (src if isinstance(src, list | tuple) else [src])]
        files[name] = records[0] if len(records) == 1 else records  # a table in several files: one record each
    return {
        "package": {"immune_correlates": _version("immune_correlates")},
        "dependencies": {name: _version(name) for name in DEPENDENCIES},
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "inputs": files,
        "seed": seed,
        "command": public_command(sys.argv if command is None else command),
        "config": config or {},
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
    }
