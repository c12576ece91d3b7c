"""The only module that runs node: circom2, snarkjs and helper scripts.

Everything goes through :func:`run_node` with argument lists (never shell
strings), a timeout, and errors that say what is missing. The pinned npm
packages (``package.json`` + ``package-lock.json``) are installed with ``npm
ci`` on first use by :func:`ensure_node_modules`: in a checkout into
``node_modules/`` at its root (what ``scripts/bootstrap.sh`` does), for an
installed wheel into the user cache, ``<cache>/node/<lock hash>/`` (see
:mod:`zksolv.toolchain.resources`), shared by every later run with the same lock file.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from zksolv.toolchain import resources
from zksolv.core.atomic import atomic_write_bytes, atomic_write_text, exclusive_lock, replace_dir, staged_dir
from zksolv.core.errors import ProofError, ToolchainError
from zksolv.toolchain.r1cs import read_r1cs_header

if TYPE_CHECKING:
    from zksolv.toolchain.cache import ArtifactCache

MIN_NODE_MAJOR = 18
#: Marker in ``node_modules`` recording the sha256 of the lock file it was installed from.
LOCK_MARKER = ".zksolv-lock-sha256"


def _manifest_dir() -> Path:
    """The folder whose ``package.json`` / ``package-lock.json`` pin the toolchain:
    ``$ZKSOLV_HOME``, the checkout's root, or the wheel's package data."""
    env = os.environ.get("ZKSOLV_HOME")
    root = Path(env) if env else resources.source_root()
    if not (root / "package.json").is_file() or not (root / "package-lock.json").is_file():
        where = "ZKSOLV_HOME" if env else "the zksolv installation"
        raise ToolchainError(f"package.json / package-lock.json not found under {root} ({where}): "
                             "reinstall zksolv or fix ZKSOLV_HOME")
    return root


def project_root() -> Path:
    """The directory holding the toolchain's ``package.json``, ``package-lock.json`` and ``node_modules``.

    ``ZKSOLV_HOME`` overrides it; in a checkout it is the checkout's root (its
    ``node_modules`` installed by ``scripts/bootstrap.sh``); outside one (an
    installed wheel) it is ``<cache>/node/<first 16 hex of the lock file's sha256>``
    in the user cache (:func:`zksolv.toolchain.cache.cache_dir`), which
    :func:`ensure_node_modules` fills on first use — never site-packages.
    """
    source = _manifest_dir()
    if os.environ.get("ZKSOLV_HOME") or resources.checkout_root() is not None:
        return source
    from zksolv.toolchain.cache import cache_dir

    return cache_dir() / "node" / _lock_digest(source)[:16]


def node_binary() -> str:
    """Path of ``node`` (>= 18), or a :class:`ToolchainError` saying how to get it."""
    node = shutil.which("node")
    if node is None:
        raise ToolchainError(f"node not found — install Node {MIN_NODE_MAJOR}+ and npm (e.g. apt-get install nodejs npm): "
                             "zksolv runs the pinned circom2/snarkjs under node")
    return _checked_node(node)


@functools.lru_cache(maxsize=8)
def _checked_node(node: str) -> str:
    """Check the version of the node at ``node`` once per process."""
    try:
        out = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30, check=True).stdout
        major = int(out.strip().lstrip("v").split(".")[0])
    except (subprocess.SubprocessError, ValueError, OSError) as exc:
        raise ToolchainError(f"node at {node} does not run: {exc}") from None
    if major < MIN_NODE_MAJOR:
        raise ToolchainError(f"node {out.strip()} is too old — install Node {MIN_NODE_MAJOR}+")
    return node


def _lock_digest(root: Path | None = None) -> str:
    """sha256 of the pinned ``package-lock.json`` (of ``root``, default :func:`_manifest_dir`)."""
    return hashlib.sha256(((root or _manifest_dir()) / "package-lock.json").read_bytes()).hexdigest()


def _installed_matches_lock(root: Path) -> bool:
    """True if every package pinned in ``package-lock.json`` is installed at its locked version."""
    try:
        lock = json.loads((root / "package-lock.json").read_text())
        for key, meta in lock.get("packages", {}).items():
            if not key.startswith("node_modules/") or meta.get("optional") or meta.get("dev"):
                continue
            installed = root / key / "package.json"
            if not installed.is_file():
                return False
            if json.loads(installed.read_text()).get("version") != meta.get("version"):
                return False
        return bool(lock.get("packages"))
    except (OSError, ValueError):
        return False


def _marker_matches(modules: Path, digest: str) -> bool:
    marker = modules / LOCK_MARKER
    try:
        return marker.is_file() and marker.read_text().strip() == digest
    except OSError:
        return False


def ensure_node_modules() -> Path:
    """Install the pinned npm packages with ``npm ci`` unless already current.

    A marker file records the hash of ``package-lock.json`` the modules were
    installed from, so a changed lock file reinstalls and an unchanged one
    costs nothing. In a checkout (or ``ZKSOLV_HOME``) they go to its
    ``node_modules``; an installed wheel installs them once per lock file into
    ``<cache>/node/<lock hash>/`` (:func:`project_root`), under a lock so that
    concurrent first runs install once, and renamed into place only when
    complete. Returns the ``node_modules`` directory.
    """
    source = _manifest_dir()
    root = project_root()
    modules = root / "node_modules"
    digest = _lock_digest(source)
    if _marker_matches(modules, digest):
        return modules
    if root != source:
        _install_into_cache(source, root, digest)
        return modules
    if _installed_matches_lock(root):
        # installed by an earlier `npm ci` outside zksolv: record it instead of
        # reinstalling (npm ci deletes node_modules, which other processes may be using)
        atomic_write_text(modules / LOCK_MARKER, digest + "\n")
        return modules
    _npm_ci(root, root)
    atomic_write_text(modules / LOCK_MARKER, digest + "\n")
    return modules


def _npm() -> str:
    """Path of ``npm`` (after checking node), or a :class:`ToolchainError` naming what to install."""
    node_binary()
    npm = shutil.which("npm")
    if npm is None:
        raise ToolchainError("npm not found — install npm (it ships with Node 18+, e.g. apt-get install npm): "
                             "zksolv installs its pinned circom2/snarkjs with `npm ci` on first use")
    return npm


#: The installed size of the pinned npm packages: ``du`` of ``node_modules`` after ``npm ci`` of this
#: lock file (406 MB on Linux x86-64, 2026-12; hardhat's native builds for every platform are most
#: of it). A lock file lists no sizes, so this is measured, not computed.
NODE_MODULES_MB = 406
#: The pinned packages the install line names; the rest are counted.
_NAMED_PACKAGES = ("circom2", "snarkjs", "hardhat", "solc")


def install_summary(root: Path) -> str:
    """What ``npm ci`` of ``root``'s lock file installs, for the line printed before it:
    ``circom2 0.2.23, snarkjs 0.7.6, ... and 328 more npm packages, about 406 MB``."""
    try:
        packages = json.loads((root / "package-lock.json").read_text()).get("packages", {})
    except (OSError, ValueError):
        packages = {}
    installed = {key.rsplit("node_modules/", 1)[1]: meta.get("version", "?") for key, meta in packages.items()
                 if key.startswith("node_modules/")}
    named = [f"{name} {installed[name]}" for name in _NAMED_PACKAGES if name in installed]
    rest = len(installed) - len(named)
    return f"{', '.join(named)} and {rest} more npm packages, about {NODE_MODULES_MB} MB"


def _npm_ci(cwd: Path, target: Path) -> None:
    """``npm ci`` in ``cwd``; ``target`` names the destination in messages.

    First use only (the caller checked the lock marker): a line on stderr says what is installed,
    its size and where, then a step line shows the elapsed time (live on a terminal; otherwise
    the seconds when it ends). stdout is left alone: it carries the command's result.
    """
    from zksolv.core import progress_hook as progress  # live lines once zksolv.app.progress registered them

    npm = _npm()
    progress.line(f"first use of the node toolchain: installing {install_summary(cwd)} on disk, into {target} "
                  "(`npm ci`, once per lock file)")
    with progress.step("npm ci"):  # a failure below closes the line with "failed"
        try:
            proc = subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                cwd=cwd, capture_output=True, text=True, timeout=900, stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired:
            raise ToolchainError(f"npm ci (into {target}) timed out after 900 s") from None
        except OSError as exc:
            raise ToolchainError(f"npm ci (into {target}): could not start npm ({exc})") from None
        if proc.returncode != 0:
            raise ToolchainError(f"npm ci (into {target}) failed (exit {proc.returncode}): "
                                 f"{proc.stderr.strip()[-2000:]}")


def _install_into_cache(source: Path, root: Path, digest: str) -> None:
    """``npm ci`` of ``source``'s lock file into a staging folder renamed to ``root`` when complete.

    An exclusive lock (``<root>.lock``) makes concurrent first runs install once;
    the others wait and reuse. A half-installed or stale ``root`` is replaced.
    """
    try:
        with exclusive_lock(root.with_name(root.name + ".lock")):
            if _marker_matches(root / "node_modules", digest):
                return
            staging = Path(tempfile.mkdtemp(prefix=f".{root.name}.", suffix=".installing", dir=root.parent))
            try:
                for name in ("package.json", "package-lock.json"):
                    shutil.copyfile(source / name, staging / name)
                _npm_ci(staging, root)
                atomic_write_text(staging / "node_modules" / LOCK_MARKER, digest + "\n")
                os.chmod(staging, 0o755)
                replace_dir(staging, root)
            except BaseException:
                shutil.rmtree(staging, ignore_errors=True)
                raise
    except OSError as exc:
        raise ToolchainError(f"cannot install the node toolchain into {root}: {exc.strerror or exc}") from None


def node_module_path(*parts: str) -> Path:
    """Path inside the installed ``node_modules`` (installing first if needed)."""
    return ensure_node_modules().joinpath(*parts)


def node_script(name: str) -> Path:
    """Path of zksolv's node script ``zksolv/js/<name>``, placed where node resolves the pinned packages.

    Node resolves an ES module's imports (``import solc from "solc"``) from the
    script's own folder upwards, never through ``NODE_PATH``: in a checkout the
    script already sits below the root's ``node_modules``; for an installed wheel
    it is copied (when missing or different) to ``<project root>/js/``.
    """
    source = resources.js_dir() / name
    modules = ensure_node_modules()
    root = modules.parent
    if source.resolve().is_relative_to(root.resolve()):
        return source
    try:
        data = source.read_bytes()
    except OSError as exc:
        raise ToolchainError(f"zksolv's node script {source} is missing ({exc.strerror}): reinstall zksolv") from None
    target = root / "js" / name
    try:
        current = target.read_bytes() if target.is_file() else None
    except OSError:
        current = None
    if current != data:
        atomic_write_bytes(target, data)
    return target


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _strip_ansi(text: str) -> str:
    """Remove terminal colour codes (circom colours its diagnostics)."""
    return _ANSI.sub("", text)


def run_node(
    args: Sequence[str | os.PathLike[str]],
    *,
    timeout: float,
    what: str,
    cwd: Path | None = None,
    stdin: str | None = None,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run ``node <args>`` and return the completed process.

    ``what`` names the step in error messages ("circom compile", "snarkjs
    groth16 prove"). A non-zero exit or a timeout raises
    :class:`ToolchainError` with the tail of stderr (a non-zero exit only
    if ``check``).
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
    if check and proc.returncode != 0:
        tail = _strip_ansi(proc.stderr.strip() or proc.stdout.strip())[-2000:]
        raise ToolchainError(f"{what}: failed (exit {proc.returncode}): {tail}")
    return proc


# --------------------------------------------------------------------------
# snarkjs
# --------------------------------------------------------------------------

SNARKJS_CLI = ("snarkjs", "build", "cli.cjs")
CIRCOM2_CLI = ("circom2", "cli.js")


def snarkjs_version() -> str:
    """Version string of the installed snarkjs package (part of cache keys)."""
    meta = json.loads(node_module_path("snarkjs", "package.json").read_text())
    return str(meta["version"])


def snarkjs(
    args: Sequence[str | os.PathLike[str]],
    *,
    timeout: float = 600.0,
    what: str | None = None,
    cwd: Path | None = None,
    stdin: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run the pinned snarkjs CLI (``node node_modules/snarkjs/build/cli.cjs <args>``).

    ``what`` names the step in errors (defaults to ``snarkjs <first two args>``).
    snarkjs sometimes reports failure on stdout with exit code 0 ("[ERROR] ...");
    such output is turned into a :class:`ToolchainError` as well.
    """
    label = what or "snarkjs " + " ".join(str(a) for a in list(args)[:2])
    proc = run_node([node_module_path(*SNARKJS_CLI), *args], timeout=timeout, what=label, cwd=cwd, stdin=stdin)
    for line in (proc.stdout + "\n" + proc.stderr).splitlines():
        if "[ERROR]" in line:
            raise ToolchainError(f"{label}: failed: {_redact(line.strip())}")
    return proc


def snarkjs_groth16_verify(
    verification_key: Path, public: Path, proof: Path, *, timeout: float = 300.0
) -> bool:
    """``snarkjs groth16 verify``: True if valid, False if invalid or malformed ("not valid commitments").

    Raises :class:`ToolchainError` only when snarkjs itself cannot run or
    cannot read the files.
    """
    proc = run_node([node_module_path(*SNARKJS_CLI), "groth16", "verify", verification_key, public, proof],
                    timeout=timeout, what="snarkjs groth16 verify", check=False)
    out = _strip_ansi(proc.stdout + "\n" + proc.stderr)
    if proc.returncode == 0 and "OK!" in out:
        return True
    if "Invalid proof" in out or "Proof commitments are not valid" in out:
        return False
    raise ToolchainError(f"snarkjs groth16 verify: failed (exit {proc.returncode}): {_redact(out.strip())[-1000:]}")


# --------------------------------------------------------------------------
# circom compile
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class CompiledCircuit:
    """Output of :func:`compile_circuit`: paths of the artifacts and the r1cs header."""

    name: str
    directory: Path
    r1cs: Path
    wasm: Path
    sym: Path
    n_constraints: int
    n_public: int
    n_private_inputs: int
    n_wires: int

    @property
    def witness_js(self) -> Path:
        """circom's generated ``generate_witness.js`` next to the wasm."""
        return self.wasm.parent / "generate_witness.js"

    @classmethod
    def from_dir(cls, directory: Path, name: str) -> "CompiledCircuit":
        """Describe an existing compile output directory (as written by :func:`compile_circuit`)."""
        directory = Path(directory)
        r1cs = directory / f"{name}.r1cs"
        wasm = directory / f"{name}_js" / f"{name}.wasm"
        sym = directory / f"{name}.sym"
        for p in (r1cs, wasm, sym, wasm.parent / "generate_witness.js"):
            if not p.is_file():
                raise ToolchainError(f"compiled circuit incomplete: {p} missing")
        hdr = read_r1cs_header(r1cs)
        return cls(name, directory, r1cs, wasm, sym, hdr.n_constraints, hdr.n_public, hdr.n_private_inputs, hdr.n_wires)


_OPTIMIZE_FLAGS = {"O0": "--O0", "O1": "--O1", "O2": "--O2"}


def compile_circuit(
    source: Path,
    out_dir: Path,
    include_dirs: Sequence[Path] = (),
    optimize: str = "O2",
    *,
    timeout: float = 3600.0,
) -> CompiledCircuit:
    """Compile a ``.circom`` file with the pinned circom2 (WebAssembly) compiler.

    Produces ``<name>.r1cs``, ``<name>.sym`` and ``<name>_js/<name>.wasm`` (+
    ``generate_witness.js``) in ``out_dir``. ``node_modules`` is always on the
    include path, so ``include "circomlib/circuits/bitify.circom";`` works.
    The compiler writes into a fresh temporary directory next to ``out_dir``
    that is renamed into place only after success, so ``out_dir`` never holds
    a half-written compile; an existing ``out_dir`` is replaced.
    """
    source = Path(source).resolve()
    out_dir = Path(out_dir).resolve()
    if not source.is_file():
        raise ToolchainError(f"circuit source {source} not found")
    if optimize not in _OPTIMIZE_FLAGS:
        raise ToolchainError(f"optimize must be one of {sorted(_OPTIMIZE_FLAGS)}, not {optimize!r}")
    modules = ensure_node_modules()
    name = source.stem
    with staged_dir(out_dir) as staging:  # renamed into place only after a complete compile
        args: list[str | os.PathLike[str]] = [
            modules.joinpath(*CIRCOM2_CLI), source, "--r1cs", "--wasm", "--sym",
            _OPTIMIZE_FLAGS[optimize], "-o", staging, "-l", modules,
        ]
        for inc in include_dirs:
            args += ["-l", Path(inc).resolve()]
        # circom2's cli turns every path into one relative to its cwd, and its WASI
        # sandbox fails to resolve includes through "../" prefixes: run from "/"
        # so that every (absolute) path becomes a plain relative one
        proc = run_node(args, timeout=timeout, what=f"circom compile {source.name}", cwd=Path(os.sep))
        # circom2 reports some errors on stdout/stderr with exit status 0
        produced = staging / f"{name}.r1cs"
        if not produced.is_file() or not (staging / f"{name}_js" / f"{name}.wasm").is_file():
            tail = _strip_ansi(proc.stderr.strip() or proc.stdout.strip())[-2000:]
            raise ToolchainError(f"circom compile {source.name}: no r1cs/wasm produced: {tail}")
    return CompiledCircuit.from_dir(out_dir, name)


# --------------------------------------------------------------------------
# witness
# --------------------------------------------------------------------------

_WITNESS_ERROR_PATTERNS = (
    re.compile(r"Assert Failed", re.I),
    re.compile(r"Error in template [\w$]+ line: \d+"),
    re.compile(r"Not all inputs have been set\. Only \d+ out of \d+"),
    re.compile(r"Signal not found.*"),
    re.compile(r"Too many values for input signal [\w.\[\]]+"),
    re.compile(r"Not enough values for input signal [\w.\[\]]+"),
    re.compile(r"Input signal [\w.\[\]]+ .*"),
)


def _redact(text: str) -> str:
    """Remove anything that could be a private value (long numbers, hex) from tool output."""
    text = re.sub(r"0x[0-9a-fA-F]+", "<redacted>", text)
    return re.sub(r"-?\d{5,}", "<redacted>", text)


def _witness_failure_reason(output: str) -> str:
    found: list[str] = []
    for line in output.splitlines():
        for pat in _WITNESS_ERROR_PATTERNS:
            m = pat.search(line)
            if m and m.group(0) not in found:
                found.append(_redact(m.group(0))[:200])
    return "; ".join(found) if found else "witness calculator failed (no diagnostic)"


def calculate_witness(wasm: Path, inputs: Mapping[str, Any], out_wtns: Path, *, timeout: float = 600.0) -> Path:
    """Compute the witness of ``inputs`` with circom's generated ``generate_witness.js``.

    ``inputs`` maps input signal names to ints / decimal strings / nested lists.
    They are written to a private (0600) temporary file that is removed
    afterwards. The ``.wtns`` is written atomically to ``out_wtns``.

    Raises :class:`ProofError` when the inputs violate the circuit (a failed
    ``===`` or range check) and :class:`ToolchainError` when node or the
    circuit files are missing; neither message contains input values.
    """
    wasm = Path(wasm).resolve()
    gen = wasm.parent / "generate_witness.js"
    if not wasm.is_file() or not gen.is_file():
        raise ToolchainError(f"witness generator missing: {wasm} / {gen.name} not found (compile the circuit first)")
    out_wtns = Path(out_wtns).resolve()
    out_wtns.parent.mkdir(parents=True, exist_ok=True)
    payload = json.dumps(_jsonable_inputs(inputs))
    with tempfile.TemporaryDirectory(prefix="zksolv-wtns-") as tmp:
        os.chmod(tmp, 0o700)
        input_path = Path(tmp) / "input.json"
        fd = os.open(input_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(payload)
        fd_out, tmp_name = tempfile.mkstemp(prefix=f".{out_wtns.name}.", suffix=".tmp", dir=out_wtns.parent)
        os.close(fd_out)
        tmp_out = Path(tmp_name)
        try:
            try:
                run_node([gen, wasm, input_path, tmp_out], timeout=timeout, what="witness calculation")
            except ToolchainError as exc:
                msg = str(exc)
                if "timed out" in msg or "could not start node" in msg:
                    raise ToolchainError(_redact(msg)) from None
                raise ProofError(
                    "witness calculation failed — the inputs do not satisfy the circuit: "
                    + _witness_failure_reason(msg)
                ) from None
            if not tmp_out.is_file() or tmp_out.stat().st_size == 0:
                raise ProofError("witness calculation produced no .wtns file")
            os.replace(tmp_out, out_wtns)
        finally:
            if tmp_out.exists():
                tmp_out.unlink()
    return out_wtns


def _jsonable_inputs(value: Any) -> Any:
    """Convert ints (which may exceed 2^53) to decimal strings for the JS witness calculator."""
    if isinstance(value, bool):
        raise ToolchainError("circuit inputs must be integers, not booleans")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        return {str(k): _jsonable_inputs(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable_inputs(v) for v in value]
    raise ToolchainError(f"circuit inputs must be ints, decimal strings or lists, not {type(value).__name__}")


# --------------------------------------------------------------------------
# cached compile
# --------------------------------------------------------------------------

def circom2_version() -> str:
    """Version of the installed circom2 npm package (part of cache keys)."""
    return str(json.loads(node_module_path("circom2", "package.json").read_text())["version"])


_INCLUDE = re.compile(r'include\s+"([^"]+)"\s*;')


def circom_sources(source: Path, search: Sequence[Path]) -> list[Path]:
    """``source`` and every file it includes, transitively, in a deterministic order.

    Includes are resolved like circom: relative to the including file, then in
    ``search``. Unresolvable includes (e.g. in comments) are skipped; circom
    itself reports real ones.
    """
    seen: dict[Path, None] = {}
    stack = [Path(source).resolve()]
    while stack:
        f = stack.pop()
        if f in seen:
            continue
        seen[f] = None
        try:
            text = f.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise ToolchainError(f"cannot read circuit file {f}: {exc.strerror}") from None
        found = []
        for inc in _INCLUDE.findall(text):
            for base in (f.parent, *search):
                cand = (base / inc).resolve()
                if cand.is_file():
                    found.append(cand)
                    break
        stack.extend(reversed(found))
    return list(seen)


def compile_cached(
    source: Path,
    include_dirs: Sequence[Path] = (),
    optimize: str = "O2",
    *,
    extra_key: Sequence[str] = (),
    cache: "ArtifactCache | None" = None,
) -> CompiledCircuit:
    """:func:`compile_circuit` through the artifact cache.

    The key covers the circom2 version, the npm lock file, ``optimize``,
    ``extra_key`` and the contents of the source and of every file it
    includes, transitively (resolved like circom: next to the including file,
    then ``include_dirs``, then ``node_modules``) — so editing an included
    template rebuilds, an unchanged circuit never does.
    """
    from zksolv.toolchain.cache import ArtifactCache, content_key

    source = Path(source).resolve()
    if not source.is_file():
        raise ToolchainError(f"circuit source {source} not found")
    cache = cache or ArtifactCache()
    search = [*(Path(d).resolve() for d in include_dirs), ensure_node_modules()]
    parts: list[str | bytes | int | Path] = [
        "circom-compile", circom2_version(), _lock_digest(), optimize, source.name, *extra_key,
    ]
    for i, f in enumerate(circom_sources(source, search)):
        parts += [f"file{i}", f]
    key = content_key(*parts)

    def build(staging: Path) -> None:
        compile_circuit(source, staging / "out", include_dirs, optimize)

    entry = cache.get_or_build("circuit", key, build)
    return CompiledCircuit.from_dir(entry / "out", source.stem)
