"""The installable package: what the wheel ships, where it finds circuits / npm pins / node_modules
outside a checkout, the dependency groups by role, and (slow) the wheel built, installed into a fresh
venv and run end to end from a folder outside the checkout."""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import time
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from zksolv.toolchain import resources

from zksolv import toolchain
from zksolv.cli import EXIT_TOOLCHAIN, main
from zksolv.core.errors import ToolchainError
from zksolv.core.extras import DISTRIBUTION, EXTRAS, MissingExtraError, missing_extra, require

ROOT = Path(__file__).resolve().parents[1]
#: What the runtime reads besides Python code, relative to the checkout root: the wheel ships each.
SHIPPED = ["circuits/*.circom", "contracts/*.sol", "package.json", "package-lock.json"]
#: Modules a keeper's base install (py_ecc, click) does not have.
NOT_IN_BASE = ("numpy", "numba", "groth16py", "matplotlib", "llvmlite", "ray", "wasmtime", "web3", "eth_account")


# ------------------------------------------------------------------ layouts

def test_checkout_layout_is_unchanged(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ZKSOLV_HOME", raising=False)
    assert resources.checkout_root() == ROOT
    assert toolchain.project_root() == ROOT  # node_modules at the root, as scripts/bootstrap.sh installs it
    from zksolv.toolchain.artifacts import build_dir
    from zksolv.toolchain.circuitgen import circuits_dir
    from zksolv.chain.solidity import registry_source_path

    assert circuits_dir() == ROOT / "circuits" and registry_source_path() == ROOT / "contracts" / "SolvencyRegistry.sol"
    assert build_dir() == ROOT / "build" / "circuits"


def test_package_data_mirrors_the_checkout() -> None:
    """zksolv/_data/ (what the wheel ships) resolves to the very files developers edit at the root."""
    for pattern in SHIPPED:
        originals = sorted(ROOT.glob(pattern))
        assert originals, pattern
        for path in originals:
            rel = path.relative_to(ROOT)
            assert (resources.DATA_DIR / rel).read_bytes() == path.read_bytes(), rel


@pytest.fixture
def wheel_layout(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Pretend zksolv is an installed wheel (no checkout around it) with its cache in tmp_path."""
    monkeypatch.setattr(resources, "checkout_root", lambda: None)
    monkeypatch.delenv("ZKSOLV_HOME", raising=False)
    monkeypatch.setenv("ZKSOLV_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_wheel_layout_reads_package_data_and_writes_only_to_the_cache(wheel_layout: Path) -> None:
    from zksolv.toolchain.artifacts import build_dir
    from zksolv.toolchain.circuitgen import circuits_dir
    from zksolv.chain.solidity import registry_source_path

    digest = hashlib.sha256((ROOT / "package-lock.json").read_bytes()).hexdigest()
    assert toolchain.project_root() == wheel_layout / "node" / digest[:16]
    assert circuits_dir() == resources.DATA_DIR / "circuits"
    assert registry_source_path() == resources.DATA_DIR / "contracts" / "SolvencyRegistry.sol"
    assert build_dir() == wheel_layout / "build" / "circuits"
    from zksolv.app.bench import load_runner

    with pytest.raises(ToolchainError, match="checkout"):
        load_runner()


def _fake_toolchain(tmp_path: Path, *, npm: bool = True) -> Path:
    """A PATH folder with a `node` that reports v20 and an `npm` whose `ci` logs the call and
    writes one package."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "node").write_text("#!/bin/sh\necho v20.0.0\n")
    if npm:
        (bin_dir / "npm").write_text(
            f"#!{sys.executable}\n"
            "import os, pathlib, sys\n"
            f"with open({str(tmp_path / 'npm-calls')!r}, 'a') as log:\n"
            "    print(os.getcwd(), *sys.argv[1:], file=log)\n"
            "pathlib.Path('node_modules/fake').mkdir(parents=True)\n"
            "pathlib.Path('node_modules/fake/package.json').write_text('{\"version\": \"1.0.0\"}')\n")
    for tool in bin_dir.iterdir():
        tool.chmod(0o755)
    return bin_dir


def test_npm_ci_into_the_user_cache_once_per_lock_file(wheel_layout: Path, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(_fake_toolchain(tmp_path)))
    modules = toolchain.ensure_node_modules()
    root = toolchain.project_root()
    assert modules == root / "node_modules" and (modules / "fake" / "package.json").is_file()
    assert (root / "package-lock.json").read_bytes() == (ROOT / "package-lock.json").read_bytes()
    assert json.loads((root / "package.json").read_text())["name"] == "zksolv-toolchain"
    assert toolchain.ensure_node_modules() == modules  # second use: the marker, no npm
    calls = (tmp_path / "npm-calls").read_text().splitlines()
    assert len(calls) == 1 and calls[0].endswith("ci --no-audit --no-fund --loglevel=error")
    assert ".installing" in calls[0]  # installed in a staging folder, renamed into place complete
    assert sorted(p.name for p in root.parent.iterdir()) == [root.name, root.name + ".lock"]
    # ES-module scripts resolve imports from their own folder: copied next to node_modules
    script = toolchain.node_script("render_verifier.mjs")
    assert script == root / "js" / "render_verifier.mjs"
    assert script.read_bytes() == (resources.js_dir() / "render_verifier.mjs").read_bytes()
    assert toolchain.node_script("render_verifier.mjs") == script


def test_missing_npm_outside_a_checkout_names_it(wheel_layout: Path, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(_fake_toolchain(tmp_path, npm=False)))
    with pytest.raises(ToolchainError, match="npm not found — install npm"):
        toolchain.ensure_node_modules()
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))
    with pytest.raises(ToolchainError, match=r"node not found — install Node 18\+ and npm"):
        toolchain.ensure_node_modules()
    assert not toolchain.project_root().exists()


def test_failed_npm_ci_leaves_nothing_that_looks_installed(wheel_layout: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    bin_dir = _fake_toolchain(tmp_path)
    (bin_dir / "npm").write_text(f"#!{sys.executable}\nimport sys\nsys.exit('network unreachable')\n")
    monkeypatch.setenv("PATH", str(bin_dir))
    with pytest.raises(ToolchainError, match="npm ci .*failed \\(exit 1\\): network unreachable"):
        toolchain.ensure_node_modules()
    root = toolchain.project_root()
    assert not root.exists() and [p.name for p in root.parent.iterdir()] == [root.name + ".lock"]


# ------------------------------------------------------------------ extras

def test_extras_match_pyproject() -> None:
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert sorted(d.split("=")[0].split(">")[0] for d in project["dependencies"]) == ["click", "py_ecc"]
    optional = project["optional-dependencies"]
    for extra, modules in EXTRAS.items():
        declared = {d.split("=")[0].split(">")[0].split("<")[0].strip() for d in optional[extra]}
        assert declared == {DISTRIBUTION.get(m, m) for m in modules}, extra
    dev = {d.split("=")[0].split(">")[0].strip() for d in optional["dev"]}
    assert {DISTRIBUTION.get(m, m) for ms in EXTRAS.values() for m in ms} <= dev
    assert "galois" not in json.dumps(project)
    bootstrap = (ROOT / "scripts" / "bootstrap.sh").read_text()
    assert "-e '.[dev,prover,plots,keeper-native,fast,poseidon,ray,chain]'" in bootstrap


def test_missing_extra_messages() -> None:
    err = missing_extra(ModuleNotFoundError("No module named 'matplotlib'", name="matplotlib.pyplot"), "zksolv bench")
    assert isinstance(err, MissingExtraError) and isinstance(err, ToolchainError)
    assert str(err) == ("zksolv bench needs the 'plots' extra (matplotlib not installed): "
                        "pip install 'zksolv[plots]'")
    assert missing_extra(ModuleNotFoundError("No module named 'nope'", name="nope")) is None
    require("prover", "x")  # installed in the checkout's venv


@pytest.mark.parametrize("args", [
    ["prove", "--account", "a.json", "--market", "m.json", "--out", "proof"],
    ["setup", "--market", "m.json"],
    ["market", "demo", "--out", "m.json"],
    ["report", "--account", "a.json", "--market", "m.json"],
    ["prover", "start"],
])
def test_prover_commands_name_the_extra(args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "numba", None)  # as if `pip install zksolv` (no extra)
    monkeypatch.chdir(tmp_path)
    inputs = [Path(name) for name in ("m.json", "a.json") if name in args and args[args.index(name) - 1] != "--out"]
    for path in inputs:  # the input files exist (click checks that first); the extra is missing
        path.write_text("{}")
    out = CliRunner().invoke(main, args)
    assert out.exit_code == EXIT_TOOLCHAIN, out.output
    assert f"error: zksolv {' '.join(args[:2] if args[0] in ('market', 'prover') else args[:1])} needs the " \
           "'prover' extra (numba not installed): pip install 'zksolv[prover]'" in out.output
    assert "Traceback" not in out.output and set(tmp_path.iterdir()) == {p.absolute() for p in inputs}


def test_import_error_of_an_optional_module_mid_command_names_the_extra(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    import zksolv.app.analytics

    def boom(*_a, **_k):
        raise ModuleNotFoundError("No module named 'numba'", name="numba")

    monkeypatch.setattr(zksolv.app.analytics, "report", boom)
    from zksolv.app.demo import demo_market, demo_portfolios

    monkeypatch.chdir(tmp_path)
    state = demo_market()
    state.save("m.json")
    demo_portfolios(state)["short_strangle"].save("a.json")
    out = CliRunner().invoke(main, ["report", "--account", "a.json", "--market", "m.json"])
    assert out.exit_code == EXIT_TOOLCHAIN
    assert "needs the 'prover' extra (numba not installed): pip install 'zksolv[prover]'" in out.output


def test_native_verify_without_groth16py_names_keeper_native(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "groth16py", None)
    monkeypatch.chdir(tmp_path)
    Path("m.json").write_text("{}")
    Path("vk.json").write_text("{}")
    out = CliRunner().invoke(main, ["verify", "--proof", str(tmp_path), "--market", "m.json", "--vk", "vk.json",
                                    "--backend", "native", "--json"])
    assert out.exit_code == EXIT_TOOLCHAIN
    line = json.loads(out.stdout.splitlines()[0])
    assert line["reason"] == ("zksolv verify needs the 'keeper-native' extra (groth16py not installed): "
                              "pip install 'zksolv[keeper-native]'")


_BLOCK = "import sys\nfor _m in {mods!r}:\n    sys.modules[_m] = None\n"


def test_keeper_commands_run_without_the_prover_extra(tmp_path: Path) -> None:
    """`verify` (its whole import chain), `commit` and `market commit` with numpy, numba, groth16py,
    matplotlib made unimportable: what `pip install zksolv` gives a keeper."""
    from zksolv.app.demo import demo_market, demo_portfolios

    state = demo_market()
    state.save(tmp_path / "m.json")
    demo_portfolios(state)["short_strangle"].save(tmp_path / "a.json")
    code = _BLOCK.format(mods=NOT_IN_BASE) + (
        "from zksolv.cli import main\n"
        "import zksolv.toolchain.circuitgen, zksolv.verifier.verify, zksolv.verifier.chunked, zksolv.proofs.proof_io, zksolv.proofs.statement\n"
        "from zksolv.core.market import MarketState\n"
        "MarketState.load('m.json')\n"
        "for args in (['commit', '--account', 'a.json', '--market', 'm.json', '--json'],\n"
        "             ['market', 'commit', 'm.json', '--json'], ['verify', '--help']):\n"
        "    try:\n"
        "        main(args)\n"
        "    except SystemExit as exc:\n"
        "        assert not exc.code, (args, exc.code)\n"
        "loaded = sorted(m for m in sys.modules if m.partition('.')[0] in {mods!r} and sys.modules[m] is not None)\n"
        "assert not loaded, loaded\n").format(mods=NOT_IN_BASE)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert '"account_commitment"' in proc.stdout and '"market_root"' in proc.stdout


# ------------------------------------------------------------------ the wheel, end to end

def _copy_sources(dest: Path) -> Path:
    """The files a wheel is built from (not the checkout's build/, .venv, node_modules or caches)."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    dest.mkdir()
    for name in ("pyproject.toml", "README.md", "package.json", "package-lock.json"):
        shutil.copy2(ROOT / name, dest / name)
    for name in ("zksolv", "circuits", "contracts"):
        shutil.copytree(ROOT / name, dest / name, symlinks=True, ignore=ignore)
    return dest


def _build_wheel(tmp_path: Path) -> Path:
    src = _copy_sources(tmp_path / "src")
    dist = tmp_path / "dist"
    cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--disable-pip-version-check", "-q", "-w", str(dist)]
    setuptools_version = tuple(int(x) for x in importlib.metadata.version("setuptools").split(".")[:2])
    if importlib.util.find_spec("wheel") is not None or setuptools_version >= (70, 1):
        cmd.append("--no-build-isolation")  # offline: the venv's setuptools (+ wheel, in the dev extra)
    proc = subprocess.run([*cmd, str(src)], capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr[-3000:]
    (wheel,) = dist.glob("zksolv-*.whl")
    return wheel


def _fresh_venv(tmp_path: Path, wheel: Path) -> tuple[Path, Path]:
    """A new venv with the wheel alone (no deps): (its bin folder, its site-packages). The
    dependencies come from this venv's site-packages through a .pth line (no download in CI);
    the editable install's finder there is not activated (a .pth line only adds a path)."""
    venv = tmp_path / "venv"
    pip_version = tuple(int(x) for x in importlib.metadata.version("pip").split(".")[:2])
    if pip_version >= (22, 3):  # pip --python: install into a venv that has no pip of its own (fast)
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
        install = [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python")]
    else:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
        install = [str(venv / "bin" / "python"), "-m", "pip"]
    proc = subprocess.run([*install, "install", "--no-deps", "--no-index", "--disable-pip-version-check", "-q",
                           str(wheel)], capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr[-3000:]
    site = Path(subprocess.run([str(venv / "bin" / "python"), "-c",
                                "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True, timeout=60).stdout.strip())
    ours = dict.fromkeys(sysconfig.get_paths()[k] for k in ("purelib", "platlib"))
    (site / "zz_zksolv_test_deps.pth").write_text("".join(f"{p}\n" for p in ours))
    return venv / "bin", site


@pytest.mark.slow
def test_wheel_installs_and_runs_outside_a_checkout(tmp_path: Path) -> None:
    """Build the wheel, install it into a fresh venv, and from a folder outside the checkout run the
    trader's and keeper's commands with a fresh artifact cache: market demo, commit, setup (the
    smallest tier, compiled from the wheel's circuits), prove, verify, export-solidity. The pinned
    npm packages go to the cache's node/ folder, shared between runs (keyed by the lock file)."""
    assert not tmp_path.resolve().is_relative_to(ROOT)
    started = time.perf_counter()
    wheel = _build_wheel(tmp_path)
    names = set(zipfile.ZipFile(wheel).namelist())
    for pattern in SHIPPED:
        for path in ROOT.glob(pattern):
            assert f"zksolv/_data/{path.relative_to(ROOT).as_posix()}" in names, path
    assert {"zksolv/js/render_verifier.mjs", "zksolv/js/compile_solidity.mjs", "zksolv/js/evm_run.mjs"} <= names
    assert not {n for n in names if n.startswith(("benchmarks/", "tests/")) or "node_modules" in n}
    bin_dir, site = _fresh_venv(tmp_path, wheel)

    from zksolv.toolchain.cache import cache_dir

    shared_node = cache_dir() / "node"  # this machine's npm install for an installed zksolv, reused
    shared_node.mkdir(parents=True, exist_ok=True)
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "node").symlink_to(shared_node, target_is_directory=True)
    work = tmp_path / "work"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "ZKSOLV_HOME", "VIRTUAL_ENV")}
    env.update(ZKSOLV_CACHE=str(cache), PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}",
               ZKSOLV_PROVER_SOCKET=str(tmp_path / "run" / "prover.sock"))

    def zksolv(*args: str) -> dict:
        proc = subprocess.run([str(bin_dir / "zksolv"), *args, "--json"], cwd=work, env=env, capture_output=True,
                              text=True, timeout=600, stdin=subprocess.DEVNULL)
        assert proc.returncode == 0, f"zksolv {' '.join(args)}: {proc.stderr[-3000:]}"
        return json.loads(proc.stdout.splitlines()[0]) if args[0] == "verify" else json.loads(proc.stdout)

    # one import root: the wheel installs the zksolv package and nothing else at the top level
    top = {n.split("/")[0] for n in names if not n.split("/")[0].endswith((".dist-info", ".data"))}
    assert top == {"zksolv"}, top
    (dist_info,) = {n.split("/")[0] for n in names if n.split("/")[0].endswith(".dist-info")}
    top_level = f"{dist_info}/top_level.txt"
    if top_level in names:
        assert zipfile.ZipFile(wheel).read(top_level).decode().split() == ["zksolv"]
    where = subprocess.run([str(bin_dir / "python"), "-c", "import zksolv, zksolv.prover, zksolv.verifier; "
                            "print(zksolv.__file__, zksolv.prover.__file__, zksolv.verifier.__file__)"],
                           cwd=work, env=env, capture_output=True, text=True, check=True, timeout=60).stdout.split()
    assert all(Path(p).is_relative_to(site) for p in where), where

    zksolv("market", "demo", "--out", "market.json", "--portfolios", "accounts")
    account = "accounts/short_strangle.json"
    commitment = zksolv("commit", "--account", account, "--market", "market.json")["account_commitment"]
    setup = zksolv("setup", "--market", "market.json", "--positions", "4", "--keys-out", "keys")
    assert Path(setup["verification_key"]).is_relative_to(cache)
    proof = zksolv("prove", "--account", account, "--market", "market.json", "--out", "proof", "--positions", "4",
                   "--resident", "off")
    assert proof["tier"] == setup["tier"] and proof["account_commitment"] == commitment
    verdict = zksolv("verify", "--proof", "proof", "--market", "market.json", "--keys", "keys",
                     "--commitment", commitment)
    assert verdict["valid"] is True and verdict["status"] == "valid"
    sol = zksolv("export-solidity", "--keys", "keys", "--out", "sol")
    assert (work / sol["registry"]).read_text() == (ROOT / "contracts" / "SolvencyRegistry.sol").read_text()
    assert (work / sol["tiers"][0]["verifier"]).read_text().count("contract Groth16Verifier") == 1

    # compiled from the wheel's circuits (fresh cache); node_modules in the cache, nothing in site-packages
    assert (cache / "build" / "circuits" / f"{setup['tier']}.circom").is_file()
    digest = hashlib.sha256((ROOT / "package-lock.json").read_bytes()).hexdigest()
    assert (shared_node / digest[:16] / "node_modules" / toolchain.LOCK_MARKER).read_text().strip() == digest
    assert not [p for p in site.rglob("*") if p.name in ("node_modules", "build") or p.suffix == ".circom"
                and "_data" not in p.parts]
    print(f"wheel end to end: {time.perf_counter() - started:.1f} s")
