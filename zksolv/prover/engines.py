"""Run independent proofs (the chunks of a book) on a local process pool or a Ray cluster.

A :class:`ProofTask` is everything one proof needs, by path and value: the
compiled circuit, the key pair, the circuit inputs (private: they never
leave the trader's machines, and are never logged) and the public signals the
reference predicts. :func:`prove_task` computes the witness in a private
temporary directory, refuses a witness whose public signals differ from the
prediction, proves, and checks the proof's public signals once more.

Engines, by what they need:

- :class:`SerialEngine` — in this process (one worker, nothing started);
- :class:`LocalPool` — the embedded default: a pool of ``workers`` processes
  (``spawn``: no state forked from the caller); each worker loads a proving key
  once and keeps it for the chunks that follow;
- :class:`ResidentEngine` — the resident prover (``zksolv prover start``), when
  it runs: keys stay loaded across books, one proof per core at a time, the
  witnesses computed here just ahead of the free proof slots;
- :class:`RayEngine` — Ray tasks (``pip install 'zksolv[ray]'``) on a running
  cluster (``address``) or a local instance it starts; proving keys and
  circuit files are shipped once per node through the object store (a node
  writes them into its own cache by sha256 and re-uses them), a failed chunk is
  retried, results come back in order.

All engines return proofs in task order; a task that fails raises
:class:`~zksolv.core.errors.ProofError` naming it (never its values).
"""

from __future__ import annotations

import concurrent.futures as cf
import hashlib
import multiprocessing
import os
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Sequence

from zksolv.prover.backends import Proof, get_backend
from zksolv.core.errors import ProofError, ToolchainError, ZksolvError
from zksolv.toolchain.r1cs import read_wtns
from zksolv.prover.witness_wasm import calculate_witness
from zksolv.toolchain import CompiledCircuit
from zksolv.toolchain.trusted_setup import KeyPair

#: ``progress(done, total)`` after each finished task.
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class ProofTask:
    """One proof to make: a label for messages (``chunk 3``, ``final``) and what proving needs."""

    label: str
    circuit: CompiledCircuit
    keys: KeyPair
    inputs: dict[str, Any]
    public: tuple[str, ...]
    backend: str = "arkworks"


def prove_task(task: ProofTask) -> Proof:
    """Witness, check, prove and re-check one task (see the module docstring)."""
    try:
        with tempfile.TemporaryDirectory(prefix="zksolv-task-") as tmp:
            wtns = task_witness(task, Path(tmp) / "witness.wtns")
            proof = get_backend(task.backend).prove(task.keys, wtns)
    except ZksolvError as exc:
        raise type(exc)(f"{task.label}: {exc}") from None
    return checked_proof(task, proof)


def task_witness(task: ProofTask, wtns: Path) -> Path:
    """Compute ``task``'s witness into ``wtns`` and hold its public signals to the reference's."""
    calculate_witness(task.circuit.wasm, task.inputs, wtns)
    n = len(task.public)
    if [str(v) for v in read_wtns(wtns)[1 : 1 + n]] != list(task.public):
        raise ProofError("its witness disagrees with the reference on the public signals")
    return wtns


def checked_proof(task: ProofTask, proof: Proof) -> Proof:
    """``proof`` if its public signals are the reference's, else :class:`ProofError` naming the task."""
    if proof.public_signals != list(task.public):
        raise ProofError(f"{task.label}: the proof's public signals differ from the reference")
    return proof


class SerialEngine:
    """Prove the tasks one after the other in this process."""

    name = "serial"

    def run(self, tasks: Sequence[ProofTask], progress: Progress | None = None) -> list[Proof]:
        out = []
        for i, task in enumerate(tasks):
            out.append(prove_task(task))
            if progress:
                progress(i + 1, len(tasks))
        return out


def _worker_init(threads: int) -> None:
    # one prover per core: keep arkworks' own thread pool to the worker's share
    os.environ.setdefault("RAYON_NUM_THREADS", str(threads))


class LocalPool:
    """Prove the tasks on ``workers`` local processes (default: one per core)."""

    name = "local"

    def __init__(self, workers: int | None = None) -> None:
        cores = os.cpu_count() or 1
        self.workers = max(1, workers if workers is not None else cores)
        self.threads = max(1, cores // self.workers)

    def run(self, tasks: Sequence[ProofTask], progress: Progress | None = None) -> list[Proof]:
        if self.workers == 1 or len(tasks) <= 1:
            return SerialEngine().run(tasks, progress)
        ctx = multiprocessing.get_context("spawn")
        results: list[Proof | None] = [None] * len(tasks)
        with cf.ProcessPoolExecutor(self.workers, mp_context=ctx, initializer=_worker_init,
                                    initargs=(self.threads,)) as pool:
            futures = {pool.submit(prove_task, task): i for i, task in enumerate(tasks)}
            done = 0
            try:
                for fut in cf.as_completed(futures):
                    results[futures[fut]] = fut.result()
                    done += 1
                    if progress:
                        progress(done, len(tasks))
            except cf.process.BrokenProcessPool:
                raise ToolchainError("a proving worker died (out of memory, or a calling script without an "
                                     "`if __name__ == '__main__':` guard); nothing was written") from None
            except BaseException:
                for fut in futures:
                    fut.cancel()
                raise
        return [r for r in results if r is not None]


class ResidentEngine:
    """Prove the tasks with the resident prover (:mod:`zksolv.prover.daemon`).

    The daemon keeps the chunk and final keys loaded across books and epochs, so a book pays no
    key load (a worker of :class:`LocalPool` loads a dev chunk key at ~0.1 s per MB), and proves
    ``workers`` tasks at a time (one per core: a groth16py proof uses one). Witnesses are computed
    here, in a private temporary directory, by one more thread than the daemon has workers, so the
    next witness is ready when a proof slot frees; the daemon receives their paths, never values.
    """

    name = "resident"

    def __init__(self, path: Path | None = None, workers: int = 1) -> None:
        self.path, self.workers = path, max(1, workers)

    def run(self, tasks: Sequence[ProofTask], progress: Progress | None = None) -> list[Proof]:
        from zksolv.prover import daemon
        with tempfile.TemporaryDirectory(prefix="zksolv-resident-") as tmp:
            def one(i: int) -> Proof:
                task = tasks[i]
                try:
                    wtns = task_witness(task, Path(tmp) / f"task{i}.wtns")
                    proof = daemon.prove_resident(task.keys, wtns, path=self.path)
                except ZksolvError as exc:
                    raise type(exc)(f"{task.label}: {exc}") from None
                wtns.unlink()
                return checked_proof(task, proof)

            with cf.ThreadPoolExecutor(self.workers + 1, thread_name_prefix="zksolv-resident") as pool:
                futures = [pool.submit(one, i) for i in range(len(tasks))]
                try:
                    for done, fut in enumerate(cf.as_completed(futures), start=1):
                        fut.result()
                        if progress:
                            progress(done, len(tasks))
                except BaseException:
                    for fut in futures:
                        fut.cancel()
                    raise
                return [fut.result() for fut in futures]


# ------------------------------------------------------------------ Ray
@dataclass(frozen=True)
class _Shipped:
    """A file in the Ray object store: its name, sha256 and object reference."""

    name: str
    sha256: str
    ref: Any


def _ship_dir() -> Path:
    from zksolv.toolchain.cache import cache_dir

    return cache_dir() / "shipped"


def _materialise(item: _Shipped, folder: str | None = None) -> Path:
    """The shipped file on this node: written once into the node's cache (under its own sha256,
    or into ``folder`` beside the files it belongs with), then re-used."""
    import ray

    from zksolv.core.atomic import atomic_write_bytes

    path = _ship_dir() / (folder or item.sha256) / item.name
    if path.is_file() and hashlib.sha256(path.read_bytes()).hexdigest() == item.sha256:
        return path
    data = ray.get(item.ref)
    if hashlib.sha256(data).hexdigest() != item.sha256:
        raise ToolchainError(f"shipped file {item.name}: checksum mismatch")
    atomic_write_bytes(path, data)
    return path


#: Roles of the circuit's witness-generator files: they must sit in one folder (the JS requires its sibling).
_WITNESS_FILES = ("wasm", "generate_witness.js", "witness_calculator.js")


def _ray_prove(task: ProofTask, shipped: dict[str, _Shipped]) -> Proof:
    """A Ray task: put the shipped circuit and key files in place on this node, then prove."""
    folder = f"{shipped['wasm'].sha256}/js"
    local = {role: _materialise(item, folder if role in _WITNESS_FILES else None) for role, item in shipped.items()}
    circuit = replace(task.circuit, wasm=local["wasm"], directory=local["wasm"].parent)
    keys = replace(task.keys, arkworks_pk=local.get("arkworks_pk"), zkey=local.get("zkey"))
    return prove_task(replace(task, circuit=circuit, keys=keys))


class RayEngine:
    """Prove the tasks as Ray tasks (``address``: a running cluster, ``"local"`` or None: start one here)."""

    name = "ray"

    def __init__(self, address: str | None = None, *, num_cpus: int | None = None, retries: int = 2) -> None:
        try:
            import ray  # noqa: F401
        except ImportError:
            raise ToolchainError("Ray is not installed: pip install 'zksolv[ray]'") from None
        self.address, self.num_cpus, self.retries = address, num_cpus, retries

    def run(self, tasks: Sequence[ProofTask], progress: Progress | None = None) -> list[Proof]:
        import ray

        started = not ray.is_initialized()
        if started:
            if self.address in (None, "local"):
                ray.init(num_cpus=self.num_cpus, include_dashboard=False, log_to_driver=False)
            else:
                ray.init(address=self.address, log_to_driver=False)
        try:
            remote = ray.remote(max_retries=self.retries, retry_exceptions=[ToolchainError])(_ray_prove)
            ship_cache: dict[Path, _Shipped] = {}

            def ship(path: Path | None) -> _Shipped | None:
                if path is None:
                    return None
                if path not in ship_cache:
                    data = Path(path).read_bytes()
                    ship_cache[path] = _Shipped(Path(path).name, hashlib.sha256(data).hexdigest(), ray.put(data))
                return ship_cache[path]

            refs = []
            for task in tasks:
                files = {"wasm": task.circuit.wasm, "generate_witness.js": task.circuit.witness_js,
                         "witness_calculator.js": task.circuit.wasm.parent / "witness_calculator.js",
                         "arkworks_pk": task.keys.arkworks_pk, "zkey": task.keys.zkey}
                shipped = {role: s for role, p in files.items() if (s := ship(p)) is not None}
                refs.append(remote.remote(task, shipped))
            results: list[Proof] = []
            for i, ref in enumerate(refs):
                try:
                    results.append(ray.get(ref))
                except ray.exceptions.RayTaskError as exc:
                    cause = exc.cause if isinstance(exc.cause, ZksolvError) else None
                    raise (cause or ProofError(f"{tasks[i].label}: failed on the Ray cluster")) from None
                if progress:
                    progress(i + 1, len(tasks))
            return results
        finally:
            if started:
                ray.shutdown()


Engine = SerialEngine | LocalPool | ResidentEngine | RayEngine


def get_engine(workers: int | None = None, ray_address: str | None = None, *, backend: str = "arkworks",
               resident: str = "off", note: Callable[[str], None] | None = None) -> Engine:
    """The engine for ``--workers`` / ``--ray`` / ``--resident``.

    Ray when an address is given. Else, for the arkworks backend, the resident prover when
    ``resident`` is ``"require"`` (:class:`ToolchainError` if none runs) or ``"auto"`` and one runs
    and ``workers`` is not given; else the local pool (``note`` is told why when ``"auto"`` found
    no resident prover).
    """
    if ray_address is not None:
        return RayEngine(ray_address)
    if backend == "arkworks" and resident in ("auto", "require") and (workers is None or resident == "require"):
        from zksolv.prover import daemon
        connection = daemon.socket_path()
        running = daemon.status(connection)
        if running is not None:
            return ResidentEngine(connection, int(running.get("workers", 1)))
        if resident == "require":
            raise ToolchainError("no resident prover running: start one with `zksolv prover start`")
        if note:
            note("no resident prover running (`zksolv prover start` keeps the chunk keys loaded); "
                 "proving on a local pool")
    return LocalPool(workers)
