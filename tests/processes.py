"""Reading a child process's stderr while it runs (tests that act when a step is under way)."""

from __future__ import annotations

import os
import subprocess
import threading


class StderrTail:
    """Collect ``proc.stderr`` (opened in binary) on a daemon thread; :attr:`text` is what the
    process has printed so far, so a test can wait for a step line and then act on the process."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self._chunks: list[bytes] = []
        self._fd = proc.stderr.fileno()  # type: ignore[union-attr]
        self._thread = threading.Thread(target=self._pump, daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        while data := os.read(self._fd, 4096):
            self._chunks.append(data)

    @property
    def raw(self) -> bytes:
        return b"".join(self._chunks)

    @property
    def text(self) -> str:
        return self.raw.decode(errors="replace")

    def join(self, timeout: float) -> None:
        self._thread.join(timeout=timeout)
