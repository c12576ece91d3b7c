"""How a lower layer reports a slow step on stderr without importing the app layer.

The toolchain's first-use ``npm ci`` (hundreds of MB, tens of seconds) must say what it does and
how long it takes, but :mod:`zksolv.toolchain` sits below :mod:`zksolv.app` and may not import it.
So it calls :func:`line` and :func:`step` here, and :mod:`zksolv.app.progress` registers its own
(live on a terminal) when it is imported, as every ``zksolv`` command does. A library user without
it gets plain lines: ``label ...`` when the step starts and ``label: done in 1.23 s`` when it ends.
Stdlib only.
"""

from __future__ import annotations

import sys
import time
from contextlib import contextmanager
from typing import Any, Callable, ContextManager, Iterator

_registered: dict[str, Callable[..., Any]] = {}


def register(step: Callable[[str], ContextManager[Any]], line: Callable[[str], None]) -> None:
    """Route :func:`step` and :func:`line` to the app layer's progress lines (its module does this)."""
    _registered.update(step=step, line=line)


def unregister() -> None:
    """Back to the plain stderr lines (tests)."""
    _registered.clear()


def line(text: str) -> None:
    """Print ``text`` as a line of its own on stderr (also while a step's line is open)."""
    if "line" in _registered:
        _registered["line"](text)
    else:
        print(text, file=sys.stderr, flush=True)


@contextmanager
def _plain_step(label: str) -> Iterator[None]:
    started = time.perf_counter()
    print(f"{label} ...", file=sys.stderr, flush=True)
    try:
        yield
    except BaseException:
        print(f"{label}: failed after {time.perf_counter() - started:.2f} s", file=sys.stderr, flush=True)
        raise
    print(f"{label}: done in {time.perf_counter() - started:.2f} s", file=sys.stderr, flush=True)


def step(label: str) -> ContextManager[Any]:
    """A context manager reporting ``label`` and its elapsed seconds on stderr."""
    return _registered["step"](label) if "step" in _registered else _plain_step(label)
