"""Step lines on stderr for the CLI: ``label ... done (1.23 s)``.

When stderr is not a terminal (tests, CI, pipes) a step prints exactly
``label ...`` when it starts and `` done (1.23 s)`` (or `` failed``) when it ends,
nothing else. On a terminal the line is live: a background thread redraws
``label ... 12 s`` every half second (and a detail such as a ``[####....] 3/9
proofs`` bar) until the step ends, so a cold compile, a trusted setup or a
multi-chunk proof shows that it is still working and for how long.

A step's body may add a note to its closing line (``done (0.02 s, cached)``)
through the :class:`Step` the context manager yields. A step started inside another
(e.g. the first-use ``npm ci`` inside a compile step) and a :func:`line` printed
while a step runs end the outer step's line first and reopen it afterwards, so no
two lines are ever drawn into each other.
"""

from __future__ import annotations

import re
import sys
import threading
import time
from contextlib import contextmanager
from typing import Callable, Iterator

import click

from zksolv.core import progress_hook as _progress_hook

#: Seconds between two redraws of a live step line.
REDRAW_INTERVAL = 0.5
_CLEAR_TO_EOL = "\x1b[K"


def stderr_is_terminal() -> bool:
    """Whether stderr is an interactive terminal (the only case a live line is drawn).

    ``sys.stderr`` is what ``click.echo(err=True)`` writes to (click's ``get_text_stream``
    wraps the same stream and is deprecated since click 8.2); click's test runner replaces it,
    so tests see no terminal.
    """
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError, OSError):  # a closed or replaced stream
        return False


class Step:
    """One running step: its label, start time, closing notes and (live only) a detail."""

    def __init__(self, label: str, live: bool) -> None:
        self.label = label
        self.live = live
        self.started = time.perf_counter()
        self.notes: list[str] = []
        self._detail = ""
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._open = False  #: the step's line is on screen, not yet ended by a newline

    @property
    def elapsed(self) -> float:
        """Seconds since the step started."""
        return time.perf_counter() - self.started

    def note(self, text: str) -> None:
        """Add ``text`` to the closing line: ``done (1.23 s, text)``."""
        self.notes.append(text)

    def detail(self, text: str) -> None:
        """Show ``text`` after the elapsed time on a live line (ignored when not live)."""
        if self.live:
            with self._lock:
                self._detail = text
            self._draw()

    # --------------------------------------------------------------- drawing
    def _draw(self) -> None:
        with self._lock:
            detail = f"  {self._detail}" if self._detail else ""
            click.echo(f"\r{self.label} ... {self.elapsed:.0f} s{detail}{_CLEAR_TO_EOL}", err=True, nl=False)
            self._open = True

    def _run(self) -> None:
        while not self._stop.wait(REDRAW_INTERVAL):
            self._draw()

    def _start_thread(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="zksolv-step", daemon=True)
        self._thread.start()

    def _stop_thread(self) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._thread = None

    def start(self) -> None:
        """Print the opening (a static ``label ...``, or the first live frame and its redraw thread)."""
        if not self.live:
            click.echo(f"{self.label} ...", err=True, nl=False)
            self._open = True
            return
        self._draw()
        self._start_thread()

    def suspend(self) -> None:
        """End the step's open line for now (a nested step or a :func:`line` is about to print)."""
        self._stop_thread()
        if self._open:
            if self.live:
                self._draw()
            click.echo("", err=True)
            self._open = False

    def resume(self) -> None:
        """After :meth:`suspend`: a live step redraws from the next tick on; a static one prints its
        whole line when it ends (nothing in between, so a second suspension leaves no stray line)."""
        if self.live:
            self._start_thread()

    def finish(self, outcome: str) -> None:
        """Print the closing (`` done (1.23 s)`` or `` failed``), ending the live line."""
        self._stop_thread()
        if self.live:
            with self._lock:
                click.echo(f"\r{self.label} ... {outcome}{_CLEAR_TO_EOL}", err=True)
        elif self._open:
            click.echo(f" {outcome}", err=True)
        else:
            click.echo(f"{self.label} ... {outcome}", err=True)
        self._open = False


_current: list[Step] = []  #: the steps running now, innermost last (a task bar draws on the innermost)


@contextmanager
def step(label: str, timings: dict[str, float] | None = None, *, live: bool | None = None) -> Iterator[Step]:
    """Print ``label ...`` then ``done (1.23 s)`` on stderr and record the time in ``timings[label]``.

    ``live`` (default: stderr is a terminal) redraws the line with the elapsed time while
    the step runs (steps do not nest). Yields the :class:`Step`, whose :meth:`Step.note` adds
    to the closing line.
    """
    outer = _current[-1] if _current else None
    if outer is not None:
        outer.suspend()
    current = Step(label, stderr_is_terminal() if live is None else live)
    current.start()
    _current.append(current)
    try:
        yield current
    except BaseException:
        _current.remove(current)
        current.finish("failed")
        if outer is not None:
            outer.resume()
        raise
    _current.remove(current)
    elapsed = current.elapsed
    if timings is not None:
        timings[label] = elapsed
    current.finish(f"done ({', '.join([f'{elapsed:.2f} s', *current.notes])})")
    if outer is not None:
        outer.resume()


def line(text: str) -> None:
    """Print ``text`` as a line of its own on stderr, also while a step's line is open."""
    running = _current[-1] if _current else None
    if running is not None:
        running.suspend()
    click.echo(text, err=True)
    if running is not None:
        running.resume()


def timing_keys(timings: dict[str, float]) -> dict[str, float]:
    """``timings`` (keyed by step labels such as ``"3. trader: proving with arkworks"``) with stable
    snake_case keys for JSON output (``"trader_proving_with_arkworks"``), rounded to milliseconds."""
    out: dict[str, float] = {}
    for label, seconds in timings.items():
        key = "_".join(re.findall(r"[a-z][a-z0-9]*", label.lower().replace("-", " ")))
        out[key] = round(out.get(key, 0.0) + seconds, 3)
    return out


def task_bar(unit: str = "proofs") -> Callable[[int, int], None] | None:
    """A ``progress(done, total)`` callback drawing ``[####......] 3/9 proofs`` on the live step line;
    ``None`` when stderr is not a terminal (nothing is printed then)."""
    if not stderr_is_terminal():
        return None

    def show(done: int, total: int) -> None:
        width = 30
        filled = width * done // max(total, 1)
        text = f"[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {unit}"
        if _current and _current[-1].live:
            _current[-1].detail(text)
        else:
            click.echo(f"\r  {text}{_CLEAR_TO_EOL}", err=True, nl=done == total)

    return show


# the toolchain (below this layer) reports its first-use npm install through zksolv.core.progress_hook
_progress_hook.register(step, line)
