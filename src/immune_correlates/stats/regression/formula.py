"""Model formulas and design matrices for the regression models.

A formula such as ``"cr ~ nk_per_ul + C(sex, Treatment('F')) + np.log2(cd8_per_ul)"``
is parsed by formulaic (Wilkinson & Rogers 1973 notation, as statsmodels and R
users know it) and turned into a design matrix with R's conventions:
treatment contrasts, the first level the reference (a pandas categorical
keeps its category order; other columns sort their values in Python's
code-point order, R's C locale), boolean columns as 0/1 columns named as the
column.  Cox formulas have ``Surv(duration, event)`` (or ``Surv(entry,
duration, event)``) on the left and may hold ``strata(x)`` and ``cluster(x)``
terms on the right, as ``survival::coxph``.

A formula is *data*, never code: every factor is parsed with :mod:`ast` and
refused unless it uses only column names, numbers, strings, arithmetic and the
documented transforms (``C``, ``I``, ``Q``, ``bs``, ``cr``, ``cc``, ``poly``,
``center``, ``scale``, ``standardize``, contrasts, and ``np.<f>`` for the
functions in :data:`NUMPY_FUNCTIONS`).  It is then evaluated by formulaic in a
namespace that holds nothing else.

Notes on splines: ``bs(x, df=k)`` is the basis of R's ``splines::bs``;
formulaic's natural cubic ``cr()`` is *not* R's ``ns()`` and contains the
intercept unless constrained, so write ``cr(x, df=k, constraints="center")``.

Design matrices, dummy coding and the rows used are in :mod:`.design_matrix`.
"""

from __future__ import annotations

import ast
import types
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ...errors import FormulaError

__all__ = [
    "ALLOWED_CALLS",
    "NUMPY_FUNCTIONS",
    "ModelSpec",
    "check_expression",
    "check_formula",
    "parse_formula",
    "evaluation_context",
]

#: Functions a formula may call (formulaic's transforms and contrasts).
ALLOWED_CALLS = frozenset(
    {
        "C",
        "I",
        "Q",
        "bs",
        "cr",
        "cc",
        "poly",
        "center",
        "scale",
        "standardize",
        "Treatment",
        "Sum",
        "Helmert",
        "Diff",
        "Poly",
        "TreatmentContrasts",
    }
)
#: ``np.<name>`` functions a formula may call.
NUMPY_FUNCTIONS = frozenset(
    {"log", "log2", "log10", "log1p", "exp", "expm1", "sqrt", "cbrt", "abs", "square", "arcsinh"}
)
_SPECIAL = frozenset({"Surv", "strata", "cluster"})
_BINOPS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.FloorDiv, ast.Mod)
_CMPOPS = (ast.Gt, ast.GtE, ast.Lt, ast.LtE, ast.Eq, ast.NotEq)
_NUMPY = types.SimpleNamespace(**{name: getattr(np, name) for name in NUMPY_FUNCTIONS})


def _refuse(expr: str, what: str, caller: str) -> FormulaError:
    return FormulaError(
        f"{caller}: the formula term {expr!r} {what}. A formula is data, not code: it may use column "
        f"names, numbers, strings, + - * / ** and comparisons, and the transforms "
        f"{sorted(ALLOWED_CALLS)} and np.<f> for f in {sorted(NUMPY_FUNCTIONS)}.",
        hint="Compute anything else as a column of the data first, then name that column in the formula.",
    )


def check_expression(
    expr: str, columns: Sequence[str] | None, *, caller: str = "formula", special: frozenset[str] = frozenset()
) -> set[str]:
    """Refuse a formula factor that is not plain data; return the columns it names.

    Parameters
    ----------
    expr : str
        One factor of a formula, e.g. ``"np.log2(cd8_per_ul)"``.
    columns : sequence of str or None
        Column names of the data; any other bare name is refused (None:
        check the structure only, any name allowed).
    special : set of str
        Extra function names allowed here (``Surv``, ``strata``, ``cluster``).

    Examples
    --------
    >>> sorted(check_expression("np.log2(x) ", ["x"]))
    ['x']
    >>> check_expression("__import__('os')", ["x"])  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    FormulaError: ...
    """
    try:
        tree = ast.parse(expr.strip(), mode="eval")
    except SyntaxError as e:
        raise _refuse(expr, "is not a valid expression", caller) from e
    used: set[str] = set()
    calls = ALLOWED_CALLS | special
    any_name = columns is None
    known = set(columns or ())

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.Expression):
            visit(node.body)
        elif isinstance(node, ast.Constant):
            if not isinstance(node.value, (int, float, str, bool, type(None))):
                raise _refuse(expr, f"holds a constant of type {type(node.value).__name__}", caller)
        elif isinstance(node, ast.Name):
            if node.id not in known and not any_name:
                raise _refuse(expr, f"names {node.id!r}, which is not a column of the data", caller)
            used.add(node.id)
        elif isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id in calls:
                if func.id == "Q":
                    if (
                        len(node.args) != 1
                        or node.keywords
                        or not isinstance(node.args[0], ast.Constant)
                        or (node.args[0].value not in known and not any_name)
                    ):
                        raise _refuse(expr, "uses Q() on something other than a quoted column name", caller)
                    used.add(str(node.args[0].value))
                    return
            elif (
                isinstance(func, ast.Attribute)
                and isinstance(func.value, ast.Name)
                and func.value.id == "np"
                and func.attr in NUMPY_FUNCTIONS
            ):
                pass
            else:
                what = ast.unparse(func)
                raise _refuse(expr, f"calls {what!r}, which is not an allowed transform", caller)
            for arg in node.args:
                visit(arg)
            for kw in node.keywords:
                if kw.arg is None or kw.arg.startswith("_"):
                    raise _refuse(expr, "passes keyword arguments that are not allowed", caller)
                visit(kw.value)
        elif isinstance(node, ast.BinOp) and isinstance(node.op, _BINOPS):
            visit(node.left)
            visit(node.right)
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd, ast.Not)):
            visit(node.operand)
        elif isinstance(node, ast.Compare) and all(isinstance(op, _CMPOPS) for op in node.ops):
            visit(node.left)
            for c in node.comparators:
                visit(c)
        elif isinstance(node, (ast.List, ast.Tuple)):
            for elt in node.elts:
                visit(elt)
        elif isinstance(node, ast.Attribute):
            raise _refuse(expr, f"accesses the attribute {node.attr!r}", caller)
        else:
            raise _refuse(expr, f"uses {type(node).__name__} syntax", caller)

    visit(tree)
    return used


def _special_args(expr: str, name: str, columns, caller: str) -> list[str] | None:
    """Column arguments of ``name(a, b, ...)`` if ``expr`` is such a call, else None."""
    tree = ast.parse(expr.strip(), mode="eval").body
    if not (isinstance(tree, ast.Call) and isinstance(tree.func, ast.Name) and tree.func.id == name):
        return None
    out = []
    for arg in tree.args:
        if isinstance(arg, ast.Name):
            out.append(arg.id)
        elif (
            isinstance(arg, ast.Call)
            and isinstance(arg.func, ast.Name)
            and arg.func.id == "Q"
            and len(arg.args) == 1
            and isinstance(arg.args[0], ast.Constant)
        ):
            out.append(str(arg.args[0].value))
        else:
            raise _refuse(expr, f"has {ast.unparse(arg)!r} inside {name}(); give column names only", caller)
    missing = [c for c in out if c not in columns]
    if missing or tree.keywords or not out:
        raise _refuse(expr, f"needs column names of the data inside {name}() (not found: {missing})", caller)
    return out


@dataclass(frozen=True)
class ModelSpec:
    """A parsed formula: response columns, the model terms, strata and cluster columns."""

    formula: str
    response: tuple[str, ...]  # (outcome,) or (duration, event) or (entry, duration, event)
    rhs: str  # formulaic formula of the model terms (no strata/cluster)
    variables: tuple[str, ...]  # data columns the model terms use
    factor_only: tuple[str, ...]  # columns used only inside C(): kept as categories
    strata: tuple[str, ...] = ()
    cluster: str | None = None


def parse_formula(formula: str, columns: Sequence[str], *, kind: str, caller: str) -> ModelSpec:
    """Parse and vet a formula (``kind`` ``"logistic"``, ``"linear"`` or ``"cox"``) without evaluating it."""
    from formulaic import Formula
    from formulaic.errors import FormulaicError

    if not isinstance(formula, str) or "~" not in formula:
        raise FormulaError(
            f"{caller}: formula must be a string with '~' between the outcome and the covariates, got {formula!r}.",
            hint='Example: "cr ~ nk_per_ul + C(sex)" or "Surv(pfs_months, pfs_event) ~ nk_per_ul".',
        )
    columns = [str(c) for c in columns]
    try:
        parsed = Formula(formula)
        lhs, rhs = parsed.lhs, parsed.rhs
        terms = list(rhs)
        lhs_terms = list(lhs)
        for t in terms + lhs_terms:
            t.factors  # noqa: B018 - a structured (|) formula has no factors here
    except (FormulaicError, AttributeError, SyntaxError, ValueError) as e:
        raise FormulaError(
            f"{caller}: cannot parse the formula {formula!r} ({e}).",
            hint="Use formulaic's grammar: + : * -1, C(x), np.log2(x), I(...).",
        ) from e
    if len(lhs_terms) != 1 or len(lhs_terms[0].factors) != 1:
        raise FormulaError(
            f"{caller}: the left side of {formula!r} must be one outcome "
            + ("(Surv(duration, event))." if kind == "cox" else "column.")
        )
    left = lhs_terms[0].factors[0]
    if kind == "cox":
        check_expression(left.expr, columns, caller=caller, special=frozenset({"Surv"}))
        response = _special_args(left.expr, "Surv", columns, caller)
        if response is None or len(response) not in (2, 3):
            raise FormulaError(
                f"{caller}: a Cox formula needs Surv(duration, event) or "
                f"Surv(entry, duration, event) on the left, got {left.expr!r}."
            )
    else:
        if left.eval_method.value == "lookup":
            response = [left.expr]
        else:
            response = _special_args(left.expr, "Q", columns, caller) or []
        if len(response) != 1 or response[0] not in columns:
            raise FormulaError(
                f"{caller}: the left side of {formula!r} must be a "
                + {"logistic": "0/1 ", "linear": "numeric "}.get(kind, "")
                + f"column of the data, got {left.expr!r}.",
                hint=f"Columns: {columns}.",
            )
    kept, strata, cluster = [], [], None
    used: list[str] = []
    in_c: set[str] = set()
    plain_use: set[str] = set()
    for term in terms:
        exprs = [f.expr for f in term.factors]
        if len(exprs) == 1 and exprs[0] != "1" and term.factors[0].eval_method.value != "lookup":
            for name in ("strata", "cluster"):
                args = _special_args(exprs[0], name, columns, caller) if name + "(" in exprs[0] else None
                if args is not None:
                    if kind != "cox":
                        raise FormulaError(f"{caller}: {name}() terms belong to Cox formulas only.")
                    if name == "strata":
                        strata.extend(args)
                    elif cluster is not None or len(args) != 1:
                        raise FormulaError(f"{caller}: give one cluster(column) term.")
                    else:
                        cluster = args[0]
                    break
            else:
                args = None
            if args is not None:
                continue
        for factor in term.factors:
            if factor.expr == "1":
                continue
            if factor.eval_method.value == "lookup":
                if factor.expr not in columns:
                    raise FormulaError(
                        f"{caller}: the formula names {factor.expr!r}, which is not a column of the data.",
                        hint=f"Columns: {columns}.",
                    )
                names = {factor.expr}
                plain_use.add(factor.expr)
            else:
                names = check_expression(factor.expr, columns, caller=caller)
                tree = ast.parse(factor.expr.strip(), mode="eval").body
                wrapped = isinstance(tree, ast.Call) and isinstance(tree.func, ast.Name) and tree.func.id == "C"
                (in_c if wrapped else plain_use).update(names)
            used.extend(n for n in names if n not in used)
        kept.append(str(term))
    if kind == "cox" and "1" not in kept:
        kept.insert(0, "1")  # coxph codes factors as with an intercept, then drops it
    rhs_text = " + ".join(kept) if "1" in kept else " + ".join(["0", *kept])
    return ModelSpec(
        formula, tuple(response), rhs_text, tuple(used), tuple(sorted(in_c - plain_use)), tuple(strata), cluster
    )


def check_formula(formula: str, *, caller: str = "formula") -> None:
    """Vet a formula's structure before any data is seen (a configuration file's formula).

    Every factor must be plain data (:func:`check_expression` with any column
    name allowed); column names are checked when the model is fitted.

    Examples
    --------
    >>> check_formula("cr ~ age + C(sex)")
    >>> check_formula("cr ~ __import__('os')")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    FormulaError: ...
    """
    from formulaic import Formula
    from formulaic.errors import FormulaicError

    try:
        parsed = Formula(formula)
        factors = [f for part in (parsed.lhs, parsed.rhs) for t in part for f in t.factors]
    except (FormulaicError, AttributeError, SyntaxError, ValueError) as e:
        raise FormulaError(f"{caller}: cannot parse the formula {formula!r} ({e}).") from e
    for factor in factors:
        if factor.eval_method.value == "python":
            check_expression(factor.expr, None, caller=caller, special=_SPECIAL)


def evaluation_context() -> dict:
    """The only names a formula's factors are evaluated with: the allowed transforms and ``np.<f>``."""
    from formulaic.transforms import TRANSFORMS

    ctx = {name: TRANSFORMS[name] for name in ALLOWED_CALLS if name in TRANSFORMS}
    ctx["np"] = _NUMPY
    return ctx
