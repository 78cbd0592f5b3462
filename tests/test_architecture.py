"""The shape of the code base: import layers (import-linter), targets independent of each other,
the wheel holding every subpackage and the compiled engine, and ruff clean."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import spikec
import tomllib
from spikec.targets import target_names

ROOT = Path(spikec.__file__).resolve().parent
BIN = Path(sys.executable).parent


def _tool(name: str) -> str:
    path = BIN / name
    if not path.exists():
        pytest.skip(f"{name} is not installed in this environment (the test extra installs it)")
    return str(path)


def _contracts_file(tmp_path: Path, extra: dict[str, dict[str, str]] | None = None) -> Path:
    """pyproject's contracts plus one independence contract over the built-in target folders (a
    new folder joins it without an edit), as an INI file for lint-imports."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    ini = configparser.ConfigParser()
    ini["importlinter"] = {"root_package": config["root_package"]}
    for k, contract in enumerate(config["contracts"]):
        ini[f"importlinter:contract:{k}"] = {key: "\n".join(v) if isinstance(v, list) else str(v)
                                              for key, v in contract.items()}
    builtin = [n for n in target_names() if (ROOT / "targets" / n / "__init__.py").exists()]
    ini["importlinter:contract:targets"] = {"name": "no target imports another", "type": "independence",
                                            "modules": "\n".join(f"spikec.targets.{n}" for n in builtin)}
    for name, contract in (extra or {}).items():
        ini[f"importlinter:contract:{name}"] = contract
    path = tmp_path / "contracts.ini"
    with path.open("w") as f:
        ini.write(f)
    return path


def _lint_imports(config: Path) -> subprocess.CompletedProcess:
    return subprocess.run([_tool("lint-imports"), "--config", str(config), "--no-cache"], capture_output=True,
                          text=True, cwd=ROOT, timeout=300)


def test_import_layers_and_target_independence_hold(tmp_path: Path) -> None:
    result = _lint_imports(_contracts_file(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "broken" in result.stdout and "0 broken" in result.stdout
    assert result.stdout.count("KEPT") == 3


def test_the_contracts_catch_an_upward_import(tmp_path: Path) -> None:
    # A contract that lets everything pass would make the test above worthless: this one, which
    # forbids an import the code does make, must be reported broken.
    forbidden = {"name": "probe", "type": "forbidden", "source_modules": "spikec.targets.loihi2",
                 "forbidden_modules": "spikec.hardware.loihi"}
    result = _lint_imports(_contracts_file(tmp_path, {"probe": forbidden}))
    assert result.returncode != 0 and "probe BROKEN" in result.stdout


def test_the_wheel_holds_every_subpackage_and_the_engine(tmp_path: Path) -> None:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs the git checkout to list the sources")
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                           capture_output=True, check=True).stdout.decode().split("\0")
    src = tmp_path / "src"
    for name in filter(None, files):
        if (ROOT / name).is_file():
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, src / name)
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                            "-w", str(tmp_path / "dist"), str(src)], capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, build.stderr[-3000:]
    wheel = next((tmp_path / "dist").glob("spikec-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    packages = {str(p.parent.relative_to(src)) for p in src.rglob("__init__.py")
                if p.relative_to(src).parts[0] not in ("tests", "bench", "build")}
    missing = sorted(f"spikec/{p}/__init__.py".replace("/./", "/") for p in packages
                     if f"spikec/{p}/__init__.py".replace("/./", "/") not in names)
    assert not missing, f"subpackages left out of the wheel: {missing}"
    assert {f"spikec/targets/{n}/__init__.py" for n in target_names() if (ROOT / "targets" / n).is_dir()} <= names
    assert any(n.startswith("spikec/runtime/_engine") and n.endswith(".so") for n in names)
    assert {"spikec/data/digits.nir", "spikec/data/digits_test.npz"} <= names
    assert not any(n.startswith(("spikec/tests/", "spikec/bench/")) or n == "spikec/setup.py" for n in names)


def test_ruff_is_clean() -> None:
    result = subprocess.run([_tool("ruff"), "check", "--no-cache", "."], capture_output=True, text=True, cwd=ROOT,
                            timeout=300)
    assert result.returncode == 0, result.stdout[-5000:]
