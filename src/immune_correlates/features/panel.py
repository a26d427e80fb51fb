"""Feature panels: data (a TOML file or a dict) mapping feature names to their recipe.

A panel is a table of features; each feature has a ``kind`` and the keys that
kind needs.  Nothing in a panel file is evaluated as code.

======================  =========================================================
kind                    keys (defaults)
======================  =========================================================
``count``               ``path``, ``method`` (``"auto"`` | ``"dual"`` | ``"bead"``)
``frequency``           ``path``, ``of`` (``"Lymphocytes"``): percent of ancestor
``ratio``               ``numerator``, ``denominator`` (gating paths)
``function``            ``assay``, ``cell_type``, ``unit`` (``"%"``),
                        ``background`` (``"subtract"`` | ``"none"``)
``lysis_auc``           ``assay``, ``cell_type``
``lytic_units``         ``assay``, ``cell_type``, ``percent`` (20),
                        ``targets_per_well`` (10000), ``per_effectors`` (1e7)
``functional_count``    ``readout`` (a ``function`` feature), ``count`` (a ``count`` feature)
``composite``           ``readouts`` (feature names), ``inhibitory`` (subset scored
                        negatively), ``min_readouts`` (2)
======================  =========================================================

Every feature may also give ``lineage`` and ``description``.  A dict panel
may map a name straight to a gating path (``{"cd3_per_ul": "Lymphocytes/CD3+"}``),
meaning a count with ``method="auto"``.
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from types import MappingProxyType

from ..errors import ConfigError
from .counts import COUNT_METHODS
from .function import UNITS

__all__ = ["Panel", "FeatureSpec", "load_panel", "default_panel", "KINDS"]

_PATH = (str,)
_NUM = (int, float)
# kind -> {key: (types, default or REQUIRED)}
REQUIRED = object()
KINDS: dict[str, dict[str, tuple]] = {
    "count": {"path": (_PATH, REQUIRED), "method": (_PATH, "auto")},
    "frequency": {"path": (_PATH, REQUIRED), "of": (_PATH, "Lymphocytes")},
    "ratio": {"numerator": (_PATH, REQUIRED), "denominator": (_PATH, REQUIRED)},
    "function": {
        "assay": (_PATH, REQUIRED),
        "cell_type": (_PATH, REQUIRED),
        "unit": (_PATH, "%"),
        "background": (_PATH, "subtract"),
    },
    "lysis_auc": {"assay": (_PATH, REQUIRED), "cell_type": (_PATH, REQUIRED)},
    "lytic_units": {
        "assay": (_PATH, REQUIRED),
        "cell_type": (_PATH, REQUIRED),
        "percent": (_NUM, 20.0),
        "targets_per_well": (_NUM, 1e4),
        "per_effectors": (_NUM, 1e7),
    },
    "functional_count": {"readout": (_PATH, REQUIRED), "count": (_PATH, REQUIRED)},
    "composite": {
        "readouts": ((list, tuple), REQUIRED),
        "inhibitory": ((list, tuple), ()),
        "min_readouts": ((int,), 2),
    },
}
_COMMON = {"kind", "lineage", "description"}
_CHOICES = {"method": COUNT_METHODS, "background": ("subtract", "none"), "unit": UNITS}


@dataclass(frozen=True)
class FeatureSpec:
    """One feature of a panel: its name, kind, lineage, description and recipe options."""

    name: str
    kind: str
    lineage: str = ""
    description: str = ""
    options: Mapping = field(default_factory=lambda: MappingProxyType({}))

    def __getitem__(self, key):
        return self.options[key]

    def __reduce__(self):
        # a read-only MappingProxyType does not pickle: send a plain dict and wrap it again on arrival
        return (_feature_spec, (self.name, self.kind, self.lineage, self.description, dict(self.options)))


def _feature_spec(name, kind, lineage, description, options) -> FeatureSpec:
    return FeatureSpec(name, kind, lineage, description, MappingProxyType(dict(options)))


@dataclass(frozen=True)
class Panel:
    """A validated feature panel (use :func:`load_panel` to make one)."""

    name: str
    features: tuple[FeatureSpec, ...]

    @property
    def names(self) -> list[str]:
        """Feature names in panel order."""
        return [f.name for f in self.features]

    def __getitem__(self, name: str) -> FeatureSpec:
        for spec in self.features:
            if spec.name == name:
                return spec
        raise KeyError(name)

    def of_kind(self, *kinds: str) -> list[FeatureSpec]:
        """Features of the given kinds, in panel order."""
        return [f for f in self.features if f.kind in kinds]


def _fail(where: str, message: str) -> None:
    raise ConfigError(f"panel {where}: {message}")


def _feature(name: str, raw, where: str) -> FeatureSpec:
    if isinstance(raw, str):
        raw = {"kind": "count", "path": raw}
    if not isinstance(raw, Mapping):
        _fail(where, f"feature {name!r} must be a table of keys (or a gating path), got {raw!r}.")
    kind = raw.get("kind")
    if kind not in KINDS:
        _fail(where, f"feature {name!r} has kind {kind!r}; use one of {sorted(KINDS)}.")
    spec = KINDS[kind]
    unknown = sorted(set(raw) - set(spec) - _COMMON)
    if unknown:
        _fail(
            where,
            f"feature {name!r} (kind {kind!r}) has unknown key(s) {unknown}; allowed: {sorted(set(spec) | _COMMON)}.",
        )
    options = {}
    for key, (types, default) in spec.items():
        if key not in raw:
            if default is REQUIRED:
                _fail(where, f"feature {name!r} (kind {kind!r}) needs key {key!r}.")
            options[key] = default
            continue
        value = raw[key]
        if isinstance(value, bool) or not isinstance(value, types):
            _fail(where, f"feature {name!r}: {key} = {value!r} should be {' or '.join(t.__name__ for t in types)}.")
        if key in _CHOICES and value not in _CHOICES[key]:
            _fail(where, f"feature {name!r}: {key} = {value!r}; use one of {list(_CHOICES[key])}.")
        if isinstance(value, (list, tuple)):
            if not all(isinstance(v, str) for v in value):
                _fail(where, f"feature {name!r}: {key} must list feature names (text), got {value!r}.")
            value = tuple(value)
        options[key] = value
    for key in ("percent", "targets_per_well", "per_effectors", "min_readouts"):
        if key in options and not options[key] > 0:
            _fail(where, f"feature {name!r}: {key} = {options[key]!r} must be positive.")
    if kind == "lytic_units" and not options["percent"] < 100:
        _fail(where, f"feature {name!r}: percent = {options['percent']!r} must be below 100.")
    for key in ("lineage", "description"):
        if key in raw and not isinstance(raw[key], str):
            _fail(where, f"feature {name!r}: {key} must be text, got {raw[key]!r}.")
    return FeatureSpec(
        name=name,
        kind=kind,
        lineage=raw.get("lineage", ""),
        description=raw.get("description", ""),
        options=MappingProxyType(options),
    )


def _check_references(features: list[FeatureSpec], where: str) -> None:
    by_name = {f.name: f for f in features}

    def need(owner, ref, kinds):
        if ref not in by_name:
            _fail(where, f"feature {owner!r} refers to {ref!r}, which is not in the panel.")
        if by_name[ref].kind not in kinds:
            _fail(
                where,
                f"feature {owner!r} refers to {ref!r} of kind {by_name[ref].kind!r}; "
                f"it must be of kind {' or '.join(kinds)}.",
            )

    for f in features:
        if f.kind == "functional_count":
            need(f.name, f["readout"], ("function",))
            need(f.name, f["count"], ("count",))
        elif f.kind == "composite":
            if not f["readouts"]:
                _fail(where, f"composite {f.name!r} lists no readouts.")
            for r in f["readouts"]:
                need(f.name, r, tuple(k for k in KINDS if k != "composite"))
            extra = sorted(set(f["inhibitory"]) - set(f["readouts"]))
            if extra:
                _fail(where, f"composite {f.name!r}: inhibitory {extra} are not among its readouts.")
    for f in features:
        if f.kind == "functional_count" and by_name[f["readout"]]["unit"] != "%":
            _fail(where, f"feature {f.name!r}: readout {f['readout']!r} must have unit '%'.")


def load_panel(panel=None) -> Panel:
    """Load and validate a feature panel.

    Parameters
    ----------
    panel : None, Panel, mapping, str or Path
        None gives the default CLL panel; a path names a TOML file with a
        ``[features.<name>]`` table per feature (and optional top-level
        ``name``); a mapping has the same structure (or maps names to
        feature tables directly).

    Returns
    -------
    Panel

    Raises
    ------
    ConfigError
        Naming the file, feature, key and value at fault.

    Examples
    --------
    >>> p = load_panel({"features": {"cd3_per_ul": {"kind": "count", "path": "Lymphocytes/CD3+"}}})
    >>> p.names, p["cd3_per_ul"]["method"]
    (['cd3_per_ul'], 'auto')
    """
    if panel is None:
        return default_panel()
    if isinstance(panel, Panel):
        return panel
    if isinstance(panel, (str, Path)):
        path = Path(panel)
        if not path.is_file():
            raise ConfigError(f"panel file {str(path)!r} not found.")
        try:
            with path.open("rb") as fh:
                raw = tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"panel file {path.name!r} is not valid TOML: {exc}.") from None
        where = f"file {path.name!r}"
        default_name = path.stem
    elif isinstance(panel, Mapping):
        raw, where, default_name = dict(panel), "<dict>", "custom"
    else:
        raise ConfigError(f"panel must be a path, a mapping or a Panel, got {type(panel).__name__}.")
    if "features" in raw and isinstance(raw["features"], Mapping):
        top_unknown = sorted(set(raw) - {"features", "name", "description"})
        if top_unknown:
            _fail(where, f"unknown top-level key(s) {top_unknown}; use [features.<name>] tables.")
        table, name = raw["features"], raw.get("name", default_name)
    else:
        table, name = raw, default_name
    if not table:
        _fail(where, "defines no features.")
    features = [_feature(str(k), v, where) for k, v in table.items()]
    _check_references(features, where)
    return Panel(name=str(name), features=tuple(features))


def default_panel() -> Panel:
    """The default CLL panel (``panels/cll_default.toml``); read once per process (a Panel is immutable)."""
    return _read_default_panel()


@functools.cache
def _read_default_panel() -> Panel:
    ref = resources.files("immune_correlates.features").joinpath("panels/cll_default.toml")
    with ref.open("rb") as fh:
        raw = tomllib.load(fh)
    return load_panel(raw)
