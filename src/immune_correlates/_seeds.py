"""One meaning of ``seed=`` for every random procedure of the package.

Every function that draws random numbers takes ``seed``, which may be

- ``None``: fresh entropy from the operating system (results differ between calls);
- a non-negative ``int``: ``numpy.random.SeedSequence(seed)``;
- a ``numpy.random.SeedSequence``: used as given;
- a ``numpy.random.Generator``: a child seed is drawn from it, so the generator advances
  (as scikit-learn treats a ``RandomState``) and two generators in the same state give the
  same result.

An ``int`` and ``SeedSequence`` of that ``int`` give the same bits; so does ``default_rng(n)``
passed as ``random_state`` to :func:`rng`.  Parallel procedures spawn child ``r`` of the
sequence for replicate ``r``, so results do not depend on ``n_jobs`` or the backend.

>>> import numpy as np
>>> seed_sequence(7).entropy == seed_sequence(np.random.SeedSequence(7)).entropy
True
>>> a = rng(np.random.default_rng(1)).random(); b = rng(np.random.default_rng(1)).random()
>>> a == b
True
"""

from __future__ import annotations

import numbers
from typing import TypeAlias

import numpy as np

from .errors import ParameterError, plain

__all__ = ["SeedLike", "seed_sequence", "rng", "spawn"]

SeedLike: TypeAlias = "int | np.random.SeedSequence | np.random.Generator | None"


def seed_sequence(seed: SeedLike, *, caller: str = "seed") -> np.random.SeedSequence:
    """The :class:`numpy.random.SeedSequence` that ``seed`` stands for (see the module docstring).

    Raises
    ------
    ParameterError
        ``seed`` is none of the four accepted forms (a negative or non-integer number, a string,
        a legacy ``RandomState``).
    """
    if seed is None or isinstance(seed, np.random.SeedSequence):
        return seed if seed is not None else np.random.SeedSequence()
    if isinstance(seed, np.random.Generator):
        return np.random.SeedSequence(seed.integers(0, 2**32, size=4, dtype=np.uint64).tolist())
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool) and seed >= 0:
        return np.random.SeedSequence(int(seed))
    raise ParameterError(
        f"{caller}: seed={plain(seed)!r} is not allowed; seed must be None, a non-negative integer, "
        "a numpy SeedSequence or a numpy Generator."
    )


def rng(seed: SeedLike, *, caller: str = "seed") -> np.random.Generator:
    """A :class:`numpy.random.Generator` drawing from :func:`seed_sequence` of ``seed``."""
    return np.random.default_rng(seed_sequence(seed, caller=caller))


def spawn(seed: SeedLike, n: int, *, caller: str = "seed") -> list[np.random.SeedSequence]:
    """``n`` independent child sequences of ``seed``: child ``r`` seeds replicate (or block) ``r``."""
    return seed_sequence(seed, caller=caller).spawn(n)
