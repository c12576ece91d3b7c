"""The only module that runs node: circom2, snarkjs and helper scripts.

Everything goes through :func:`run_node` with argument lists (never shell
strings), a timeout, and errors that say what is missing. The pinned npm
packages (``package.json`` + ``package-lock.json`` at the project root) are
installed with ``npm ci`` on first use by :func:`ensure_node_modules`.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path
from typing import Sequence

from zksolv.errors import ToolchainError

MIN_NODE_MAJOR = 18


def project_root() -> Path:
    """The directory holding ``package.json`` (the zksolv checkout).

    ``ZKSOLV_HOME`` overrides it; otherwise it is the parent of the package.
    """
    env = os.environ.get("ZKSOLV_HOME")
    root = Path(env) if env else Path(__file__).resolve().parent.parent
    if not (root / "package.json").is_file():
        raise ToolchainError(
            f"package.json not found under {root}: run zksolv from its checkout or set ZKSOLV_HOME"
        )
    return root


def node_binary() -> str:
    """Path of ``node`` (>= 18), or a :class:`ToolchainError` saying how to get it."""
    node = shutil.which("node")
    if node is None:
        raise ToolchainError(f"node not found — install Node {MIN_NODE_MAJOR}+ (e.g. apt-get install nodejs)")
    try:
        out = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30, check=True).stdout
        major = int(out.strip().lstrip("v").split(".")[0])
    except (subprocess.SubprocessError, ValueError, OSError) as exc:
        raise ToolchainError(f"node at {node} does not run: {exc}") from None
    if major < MIN_NODE_MAJOR:
        raise ToolchainError(f"node {out.strip()} is too old — install Node {MIN_NODE_MAJOR}+")
    return node


def _lock_digest(root: Path) -> str:
    return hashlib.sha256((root / "package-lock.json").read_bytes()).hexdigest()


def ensure_node_modules() -> Path:
    """Install the pinned npm packages with ``npm ci`` unless already current.

    A marker file records the hash of ``package-lock.json`` the modules were
    installed from, so a changed lock file reinstalls and an unchanged one
    costs nothing. Returns the ``node_modules`` directory.
    """
    root = project_root()
    modules = root / "node_modules"
    marker = modules / ".zksolv-lock-sha256"
    digest = _lock_digest(root)
    if marker.is_file() and marker.read_text().strip() == digest:
        return modules
    node_binary()
    npm = shutil.which("npm")
    if npm is None:
        raise ToolchainError("npm not found — install npm (it ships with Node 18+)")
    try:
        proc = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=root, capture_output=True, text=True, timeout=900,
        )
    except subprocess.TimeoutExpired:
        raise ToolchainError("npm ci timed out after 900 s") from None
    if proc.returncode != 0:
        raise ToolchainError(f"npm ci failed (exit {proc.returncode}): {proc.stderr.strip()[-2000:]}")
    marker.write_text(digest + "\n")
    return modules


def node_module_path(*parts: str) -> Path:
    """Path inside the installed ``node_modules`` (installing first if needed)."""
    return ensure_node_modules().joinpath(*parts)


def run_node(
    args: Sequence[str | os.PathLike[str]],
    *,
    timeout: float,
    what: str,
    cwd: Path | None = None,
    stdin: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``node <args>`` and return the completed process.

    ``what`` names the step in error messages ("circom compile", "snarkjs
    groth16 prove"). A non-zero exit or a timeout raises
    :class:`ToolchainError` with the tail of stderr.
    """
    ensure_node_modules()
    cmd = [node_binary(), *map(str, args)]
    try:
        proc = subprocess.run(
            cmd, cwd=cwd or project_root(), capture_output=True, text=True, timeout=timeout, input=stdin,
        )
    except subprocess.TimeoutExpired:
        raise ToolchainError(f"{what}: timed out after {timeout:.0f} s") from None
    except OSError as exc:
        raise ToolchainError(f"{what}: could not start node ({exc})") from None
    if proc.returncode != 0:
        tail = (proc.stderr.strip() or proc.stdout.strip())[-2000:]
        raise ToolchainError(f"{what}: failed (exit {proc.returncode}): {tail}")
    return proc
