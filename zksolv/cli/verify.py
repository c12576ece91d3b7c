"""``zksolv verify`` and ``zksolv export-solidity``: the keeper's side."""

from __future__ import annotations

import json
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

import click

from zksolv.core.errors import InputError, ToolchainError, ZksolvError

if TYPE_CHECKING:  # the commands import their modules lazily, to start fast
    from zksolv.chain.solidity import TierKey

from zksolv.cli.common import (
    EXIT_INPUT,
    EXIT_INTERNAL,
    EXIT_INVALID,
    _missing_extra,
    check_output,
    emit,
    error_message,
    exit_code,
    handle_errors,
    internal_error_message,
    json_option,
    needs,
)


def _json_error_line(reason: str, code: int) -> str:
    """The one JSON line ``verify --json`` prints for an error that stops it (exit 2, 3 or 5)."""
    return json.dumps({"status": "error", "valid": False, "reason": reason, "exit_code": code})


class _JsonErrorCommand(click.Command):
    """A command whose usage errors (an unknown option, a bad choice) also print the JSON error
    line when ``--json`` is among its arguments, so a script reading stdout always gets JSON."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        wants_json = "--json" in args
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            if wants_json:
                click.echo(_json_error_line(exc.format_message(), EXIT_INPUT))
            raise


#: Submissions handed to one verify_many call (one batch; the progress bar moves per chunk).
_VERIFY_CHUNK = {"python": 64, "native": 2048, "auto": 2048, "py_ecc": 16}
_TRUST_HINT = ("name the verification keys this keeper trusts: --keys DIR (the venue's published key set), --vk FILE "
               "(one key), or --dev-key for this machine's own development keys (NOT FOR REAL FUNDS)")


@click.command(cls=_JsonErrorCommand)
@click.option("--proof", "proof_dirs", multiple=True, type=click.Path(exists=True, file_okay=False),
              help="a folder written by `zksolv prove` (repeatable)")
@click.option("--proofs", "proofs_root", type=click.Path(exists=True, file_okay=False),
              help="a folder of proof folders: every subfolder is one submission")
@click.option("--market", "market_path", type=click.Path(exists=True, dir_okay=False),
              help="market state JSON  [required; checked here so that --json reports its absence too]")
@click.option("--vk", "vk_path", type=click.Path(exists=True, dir_okay=False),
              help="the verification key this keeper trusts (the venue's verification_key.json)")
@click.option("--keys", "keys_dir", type=click.Path(exists=True, file_okay=False),
              help="the venue's key set: a folder of <circuit name>.json verification keys, one per tier it "
                   "accepts (chunked books need their chunk and final keys from it)")
@click.option("--transcript-sha256", "transcript_pin", metavar="HEX",
              help="with --keys: the ceremony transcript hash you checked once with `zksolv ceremony verify`; "
                   "a key set naming another transcript is refused (exit 2); it does not pin the key files: "
                   "pin --key-set-sha256 too")
@click.option("--key-set-sha256", "key_set_pin", metavar="HEX",
              help="with --keys: the key_set_sha256 `zksolv ceremony verify` printed for this key set (the "
                   "manifest's sha256: the transcript and every key file); a key set changed since is refused (exit 2)")
@click.option("--policy", "policy_path", type=click.Path(exists=True, dir_okay=False), metavar="FILE",
              help="the venue's risk policy you pinned (`zksolv market policy`): a market applying another (vol "
                   "shift, correlation, haircuts, AVSL coefficients, scenario family ...) is refused (exit 2)")
@click.option("--dev-key", is_flag=True,
              help="use this machine's own development setup for each proof's tier: NOT FOR REAL FUNDS")
@click.option("--commitment", type=str, help="the account commitment the venue stores (one proof; decimal or 0x-hex)")
@click.option("--commitments", "commitments_path", type=click.Path(exists=True, dir_okay=False),
              help="JSON object: proof folder name -> the commitment the venue stores for that account")
@click.option("--backend", type=click.Choice(["auto", "python", "native", "py_ecc"]), default="auto",
              show_default=True,
              help="auto: native if groth16py is installed (the keeper-native extra), else python; python: batched "
                   "integer pairing (checked against py_ecc); native: groth16py over a process pool; py_ecc: py_ecc's "
                   "own pairing, one proof at a time (the slow reference)")
@click.option("--workers", type=click.IntRange(1, 512), help="processes for --backend native (default: all cores)")
@click.option("--no-cache", "no_cache", is_flag=True,
              help="recompute the market root and leave the keeper's root cache alone (by default the root of "
                   "a market file is kept per sha256 of its bytes, in this keeper's own cache; docs/keeper.md; "
                   "ZKSOLV_ROOT_CACHE=off does the same)")
@json_option
@handle_errors
def verify(proof_dirs: tuple[str, ...], proofs_root: str | None, market_path: str | None, vk_path: str | None,
           keys_dir: str | None, transcript_pin: str | None, key_set_pin: str | None, policy_path: str | None,
           dev_key: bool, commitment: str | None, commitments_path: str | None, backend: str, workers: int | None,
           no_cache: bool, as_json: bool) -> None:
    """Check proofs against a market state: one line per proof and a summary.

    Exit 0 if every proof is valid, 1 if any is invalid or malformed, 2 for usage errors.
    Under --json every outcome is a JSON line, errors included.

    \b
    Example:
      $ zksolv verify --proof proof/ --market market.json --keys keys/
      $ zksolv verify --proofs epoch/ --market market.json --keys keys/ --commitments registered.json --json
      $ zksolv verify --proof proof/ --market market.json --dev-key
    """
    try:
        try:
            _verify(proof_dirs, proofs_root, market_path, vk_path, keys_dir, transcript_pin, key_set_pin, policy_path,
                    dev_key,
                    commitment,
                    commitments_path, backend, workers, as_json, use_cache=not no_cache)
        except ImportError as exc:
            raise _missing_extra(exc) from None
    except (ZksolvError, OSError) as exc:  # handle_errors prints the one-line error and exits
        if as_json:
            click.echo(_json_error_line(error_message(exc), exit_code(exc)))
        raise
    except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort, KeyboardInterrupt):
        raise
    except Exception as exc:  # a bug: handle_errors exits 5; the JSON line says so too
        if as_json:
            click.echo(_json_error_line(internal_error_message(exc), EXIT_INTERNAL))
        raise


def _verify(proof_dirs: tuple[str, ...], proofs_root: str | None, market_path: str | None, vk_path: str | None,
            keys_dir: str | None, transcript_pin: str | None, key_set_pin: str | None, policy_path: str | None,
            dev_key: bool, commitment: str | None,
            commitments_path: str | None, backend: str, workers: int | None, as_json: bool, *,
            use_cache: bool = True) -> None:
    from zksolv.core.root_cache import load_market as load_market_root
    from zksolv.proofs.keyset import parse_transcript_pin
    from zksolv.verifier.submissions import KeySet, read_submission, refuse_shipped_key
    from zksolv.verifier.verify import verify_many

    if backend == "native":
        needs("keeper-native")
    folders = _proof_folders(proof_dirs, proofs_root)
    if backend in ("native", "auto"):
        from zksolv.verifier import native
        if backend == "auto":  # resolved here, so the summary names the backend that ran
            backend = "native" if native.available() else "python"
        elif not native.available():  # a missing package is the environment (exit 3), checked before any work
            raise ToolchainError("--backend native: groth16py is not installed (pip install 'zksolv[keeper-native]')")
    if market_path is None:
        raise InputError("--market: required (the market state JSON of the epoch the proofs are for)")
    given = [name for name, value in (("--vk", vk_path), ("--keys", keys_dir), ("--dev-key", dev_key)) if value]
    if len(given) > 1:
        raise InputError(f"{', '.join(given)}: give one (" + _TRUST_HINT + ")")
    if not given:
        raise InputError(_TRUST_HINT)
    if transcript_pin is not None:
        if keys_dir is None:
            raise InputError("--transcript-sha256: pins the ceremony transcript of a key set; give it with --keys DIR")
        transcript_pin = parse_transcript_pin(transcript_pin)
    if key_set_pin is not None:
        if keys_dir is None:
            raise InputError("--key-set-sha256: pins a key set; give it with --keys DIR")
        key_set_pin = parse_transcript_pin(key_set_pin, "--key-set-sha256")
    if keys_dir is not None and not Path(keys_dir).is_dir():
        raise InputError(f"--keys: {keys_dir} is not a folder")
    expected = _registered_commitments(folders, commitment, commitments_path)
    if vk_path is not None:
        refuse_shipped_key(Path(vk_path), folders)
    policy = None
    if policy_path is not None:
        from zksolv.core.policy import load_policy

        policy = load_policy(policy_path)
    state = load_market_root(market_path, use_cache=use_cache)  # parsed and audited; its root cached per file sha256
    if policy is not None:
        from zksolv.core.policy import check_policy

        check_policy(state, policy)
    if keys_dir is not None:
        trust = KeySet.from_folder(keys_dir, transcript_sha256=transcript_pin, key_set_sha256=key_set_pin)
        trust.check_market(state)  # the key set against this market's circuits: exit 2 before any work
    elif vk_path is not None:
        trust = KeySet.from_file(vk_path)
    else:
        trust = KeySet.dev()
    if dev_key:
        click.echo("warning: verifying with this machine's development key (single-party setup) — NOT FOR REAL FUNDS",
                   err=True)
    start = time.perf_counter()
    rows: list[dict[str, Any]] = []
    pending: dict[str, list[tuple[int, Any]]] = {}  # key path -> (row index, submission)
    for i, folder in enumerate(folders):
        unregistered = None
        if expected is not None and folder.name not in expected:
            unregistered = f"no registered commitment for {folder.name!r} in --commitments"
        read = read_submission(folder, state, None if expected is None else expected.get(folder.name), trust,
                               unregistered=unregistered)
        row = read.report()
        rows.append(row if read.refusal is None else {**row, **read.refusal.to_dict()})
        if read.refusal is None:
            assert read.key is not None
            pending.setdefault(read.key.path, []).append((i, read.submission))
    chunk = _VERIFY_CHUNK[backend]
    show_bar = sys.stderr.isatty()  # stderr only: --json output on stdout stays clean
    with click.progressbar(length=len(folders), label="verifying", file=sys.stderr) if show_bar else _no_bar() as bar:
        bar.update(len(folders) - sum(len(members) for members in pending.values()))
        for members in pending.values():
            for at in range(0, len(members), chunk):
                part = members[at:at + chunk]
                verdicts = verify_many([sub for _, sub in part], state, backend=backend, workers=workers)
                for (i, _), verdict in zip(part, verdicts):
                    rows[i] = {**rows[i], **verdict.to_dict()}
                bar.update(len(part))
    elapsed = time.perf_counter() - start
    counts = {status: sum(r["status"] == status for r in rows) for status in ("valid", "invalid", "malformed")}
    summary = {"proofs": len(rows), **counts, "seconds": round(elapsed, 3),
               "proofs_per_second": round(len(rows) / elapsed, 1) if elapsed > 0 else None, "backend": backend}
    for r in rows:
        if as_json:
            click.echo(json.dumps(r))
        else:
            line = f"{r['status'].upper():<9} {r['folder']}"
            click.echo(line if r["valid"] else f"{line}: {r['reason']}")
    if as_json:
        click.echo(json.dumps({"summary": summary}))
    else:
        if len(rows) == 1 and "key_setup" in rows[0]:
            click.echo(f"key_setup: {rows[0]['key_setup']}")
        click.echo(f"{summary['proofs']} proof(s): {counts['valid']} valid, {counts['invalid']} invalid, "
                   f"{counts['malformed']} malformed ({summary['proofs_per_second']} proofs/s)")
    sys.exit(0 if counts["valid"] == len(rows) else EXIT_INVALID)


@contextmanager
def _no_bar() -> Iterator[Any]:
    class _Silent:
        def update(self, _n: int) -> None:
            pass

    yield _Silent()


def _proof_folders(proof_dirs: tuple[str, ...], proofs_root: str | None) -> list[Path]:
    folders = [Path(p) for p in proof_dirs]
    if proofs_root is not None:
        root = Path(proofs_root)
        if not root.is_dir():
            raise InputError(f"--proofs: {root} is not a folder")
        folders += sorted(p for p in root.iterdir() if p.is_dir())
    if not folders:
        raise InputError("--proof or --proofs: give the proof folder(s) to check")
    return folders


def _registered_commitments(folders: list[Path], commitment: str | None,
                            commitments_path: str | None) -> dict[str, int] | None:
    """Folder name -> the commitment the venue stores, or None when nothing was given."""
    if commitment is not None and commitments_path is not None:
        raise InputError("--commitment, --commitments: give one")
    if commitment is not None:
        if len(folders) != 1:
            raise InputError("--commitment: only with a single proof (use --commitments FILE for many)")
        return {folders[0].name: _commitment_value(commitment, "--commitment")}
    if commitments_path is None:
        return None
    try:
        data = json.loads(Path(commitments_path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"--commitments {commitments_path}: cannot read ({exc.strerror})") from None
    except (ValueError, RecursionError):
        raise InputError(f"--commitments {commitments_path}: not valid JSON") from None
    if not isinstance(data, dict):
        raise InputError("--commitments: expected a JSON object {folder name: commitment}")
    return {str(name): _commitment_value(value, f"--commitments[{name!r}]") for name, value in data.items()}


def _commitment_value(value: Any, what: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    try:
        return int(value, 0)
    except (TypeError, ValueError):
        raise InputError(f"{what}: expected a decimal or 0x-hex integer") from None


_EXPORT_SOURCES = "--keys DIR (the venue's key set), --vk TIER=FILE (repeatable) or --proof DIR (repeatable)"


@click.command("export-solidity")
@click.option("--keys", "keys_dir", type=click.Path(exists=True, file_okay=False),
              help="the venue's key set (as for `zksolv verify --keys`): a folder of <circuit name>.json keys; every "
                   "single-circuit tier in it is accepted (at most 4; chunk and final keys are left out)")
@click.option("--vk", "vk_specs", multiple=True, metavar="TIER=FILE",
              help="a verification key and the tier it serves: its position capacity (16=vk.json) or its circuit "
                   "name (avsl_n16_u2_a4_k16_d4_stress=vk.json); repeatable, one per accepted tier")
@click.option("--proof", "proof_dirs", multiple=True, type=click.Path(exists=True, file_okay=False),
              help="a proof folder: export this machine's key for its tier (header: circuit hash and tier); "
                   "repeatable, one per accepted tier")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="folder for the .sol files and deploy.json")
@json_option
@handle_errors
def export_solidity(keys_dir: str | None, vk_specs: tuple[str, ...], proof_dirs: tuple[str, ...], out: str,
                    as_json: bool) -> None:
    """Write the Groth16 verifier and batch verifier of every accepted tier, the SolvencyRegistry
    contract, and deploy.json (deploy order and the registry's constructor argument).

    \b
    Example:
      $ zksolv export-solidity --keys keys/ --out contracts/
      $ zksolv export-solidity --proof proof/ --out contracts/
    """
    from zksolv.chain.solidity import export_registry, tier_keys_from_folder

    given = [name for name, value in (("--keys", keys_dir), ("--vk", vk_specs), ("--proof", proof_dirs)) if value]
    if len(given) > 1:
        raise InputError(f"{', '.join(given)}: give one of {_EXPORT_SOURCES}")
    if not given:
        raise InputError(f"the tiers to accept: give {_EXPORT_SOURCES}")
    check_output(out, folder=True)
    skipped: dict[str, str] = {}
    key_set = None
    if keys_dir is not None:
        tiers, skipped = tier_keys_from_folder(keys_dir)
        key_set = _checked_export_key_set(Path(keys_dir), tiers)
    elif vk_specs:
        tiers = [_tier_key_spec(spec) for spec in vk_specs]
    else:
        tiers = _unique_tiers([_export_for_proof(Path(folder)) for folder in proof_dirs])
    written = export_registry(tiers, Path(out), key_set=key_set)
    result: dict[str, Any] = {
        "registry": str(written["registry"]), "deploy_note": str(written["deploy_note"]),
        "tiers": [{**row, "verifier": str(row["verifier"]), "batch_verifier": str(row["batch_verifier"])}
                  for row in written["tiers"]],
    }
    if skipped:
        result["skipped"] = skipped
    if as_json:
        emit(result, True)
        return
    click.echo(f"registry: {result['registry']} (accepts tiers {', '.join(str(t['capacity']) for t in result['tiers'])})")
    for row in result["tiers"]:
        click.echo(f"tier {row['capacity']}: {row['verifier']}, {row['batch_verifier']}")
    for name, reason in skipped.items():
        click.echo(f"left out {name}: {reason}")
    click.echo(f"deploy note: {result['deploy_note']}")


def _checked_export_key_set(keys_dir: Path, tiers: list[TierKey]) -> dict[str, Any] | None:
    """A key set with a manifest: its files match it and its tiers are this installation's circuits
    (exit 2 otherwise); returns the provenance deploy.json records. None for a folder without a manifest."""
    from zksolv.proofs.circuit_names import parse_tier_name
    from zksolv.toolchain.circuitgen import Tier
    from zksolv.proofs.keyset import MANIFEST, check_key_set, key_setup_label
    from zksolv.verifier.submissions import local_circuit_hash

    if not (keys_dir / MANIFEST).is_file():
        click.echo(f"warning: {keys_dir} has no {MANIFEST}: nothing ties its keys to the published circuits "
                   "(finalize a ceremony: `zksolv ceremony finalize`)", err=True)
        return None
    expected = {}
    for t in tiers:
        shape = parse_tier_name(t.tier)
        expected[t.tier] = local_circuit_hash(Tier(shape.n_positions, shape.n_underlyings, shape.n_collateral,
                                                     shape.n_scenarios, shape.depth, shape.mode))
    manifest = check_key_set(keys_dir, expected)
    if manifest.get("route") != "ceremony":
        click.echo(f"warning: the key set's route is {manifest.get('route')!r}, not a ceremony: NOT FOR REAL FUNDS",
                   err=True)
    elif manifest.get("transcript_waivers"):
        click.echo(f"warning: {key_setup_label(manifest)}", err=True)
    return {"route": manifest.get("route"), "transcript_sha256": manifest.get("transcript_sha256")}


def _tier_key_spec(spec: str) -> TierKey:
    """``--vk TIER=FILE``: TIER is a position capacity or a single-circuit tier name."""
    from zksolv.chain.solidity import TierKey
    from zksolv.proofs.circuit_names import TIER_NAME, parse_tier_name

    tier, sep, path = spec.partition("=")
    if sep and tier.isascii() and tier.isdigit() and int(tier) > 0 and path:
        return TierKey(int(tier), Path(path))
    if sep and TIER_NAME.fullmatch(tier) and path:
        return TierKey(parse_tier_name(tier).n_positions, Path(path), tier=tier)
    raise InputError(f"--vk {spec}: expected TIER=FILE, TIER the position capacity the key serves (16=vk.json) "
                     "or its circuit name (avsl_n16_u2_a4_k16_d4_stress=vk.json)")


def _unique_tiers(tiers: list[TierKey]) -> list[TierKey]:
    """One entry per capacity: proofs of the same tier name the same key; two keys for one tier are refused."""
    by_capacity: dict[int, TierKey] = {}
    for t in tiers:
        seen = by_capacity.setdefault(t.capacity, t)
        if seen.vk_path != t.vk_path:
            raise InputError(f"--proof: two keys for tier {t.capacity} ({seen.vk_path}, {t.vk_path})")
    return list(by_capacity.values())


def _export_for_proof(proof_dir: Path) -> TierKey:
    """This machine's key for the tier of the proof in ``proof_dir``, checked against this checkout's circuit."""
    from zksolv.chain.solidity import TierKey
    from zksolv.proofs.statement import STATEMENT_FILE, Statement
    from zksolv.toolchain.artifacts import local_key
    from zksolv.toolchain.circuitgen import Tier
    from zksolv.verifier.submissions import local_circuit_hash

    statement = Statement.load(proof_dir / STATEMENT_FILE)
    if statement.chunked:
        raise InputError(f"--proof {proof_dir}: a book proven in chunks; keepers verify those off chain "
                         "(the registry takes single-circuit tiers)")
    shape = statement.shape
    if shape.groups:
        raise InputError(f"--proof {proof_dir}: a grouped circuit ({statement.tier}); the registry takes one key per "
                         "capacity, the plain tiers (prove with --groups 0 for the chain)")
    tier = Tier(shape.n_positions, shape.n_underlyings, shape.n_collateral, shape.n_scenarios, shape.depth, shape.mode)
    circuit_hash = local_circuit_hash(tier)
    if statement.circuit_hash != circuit_hash:
        raise InputError(f"statement.circuit_hash: the proof is for circuit {statement.circuit_hash[:16]}…, "
                         f"this checkout's circuit for tier {tier.name} is {circuit_hash[:16]}…")
    key = local_key(tier.name, circuit_hash, statement.setup_route)
    if key.insecure:
        click.echo("warning: exporting a development key (single-party setup) — NOT FOR REAL FUNDS", err=True)
    return TierKey(tier.n_positions, Path(key.path), tier=tier.name, circuit_hash=circuit_hash)
