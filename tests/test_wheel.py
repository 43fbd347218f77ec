"""practicelake as a user installs it: the wheel built from pyproject.toml, installed into a
fresh virtual environment, runs generate -> run -> sql from a folder outside the checkout.
Every file the package reads at run time (model SQL and contracts, reference lists) must be
in the wheel, found through importlib.resources."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE_DATA = ("curate/models/access_daily.sql", "curate/models/access_daily.toml", "contracts/reference/carc.csv")
QUERY = "select count(*) as days, sum(kept_appointments) as kept from access_daily"


def run(command: list[str], cwd: Path, env: dict[str, str], stdin: str | None = None) -> str:
    result = subprocess.run(command, cwd=cwd, env=env, input=stdin, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"{' '.join(command[:3])}: {result.stderr[-2000:]}"
    return result.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Built from a copy of what the source distribution holds, so the checkout is left as it was.
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        if (ROOT / name).exists():
            shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    out = tmp_path_factory.mktemp("dist")
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet", "-w", str(out)]
    run([*command, str(source)], source, dict(os.environ))
    (found,) = out.glob("practicelake-*.whl")
    return found


def test_the_wheel_holds_the_package_data(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = [name for name in PACKAGE_DATA if f"practicelake/{name}" not in names]
    assert missing == []
    models = {n for n in names if n.startswith("practicelake/curate/models/")}
    sql = {n.removesuffix(".sql") for n in models if n.endswith(".sql")}
    assert sql and sql == {n.removesuffix(".toml") for n in models if n.endswith(".toml")}
    assert sql == {
        f"practicelake/curate/models/{p.stem}" for p in (ROOT / "src/practicelake/curate/models").glob("*.sql")
    }


@pytest.mark.slow
def test_an_installed_practicelake_generates_runs_and_answers_sql(wheel: Path, tmp_path: Path) -> None:
    # A fresh environment: the wheel installed into it, its pinned dependencies taken from the
    # project's environment (a .pth line: that environment's own .pth files, such as the
    # checkout's editable install, are not read through it).
    environment = tmp_path / "venv"
    venv.create(environment, with_pip=False)
    site = Path(sysconfig.get_path("purelib", vars={"base": str(environment), "platbase": str(environment)}))
    (site / "dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n", encoding="utf-8")
    pip = [sys.executable, "-m", "pip", "--python", str(environment / "bin" / "python"), "install", "--quiet"]
    run([*pip, "--no-deps", "--no-index", str(wheel)], tmp_path, dict(os.environ))
    python, cli = str(environment / "bin" / "python"), str(environment / "bin" / "practicelake")
    work = tmp_path / "work"
    work.mkdir()
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "LANG": "C.UTF-8"}

    where = run([python, "-c", "import practicelake; print(practicelake.__file__)"], work, env)
    assert where.startswith(str(environment)), where
    run([cli, "generate", "--out", "exports", "--practices", "1", "--years", "1", "--appointments", "3000"], work, env)
    settings = [
        'warehouse_uri = "' + (work / "lakehouse").as_uri() + '"',
        f'key_file = "{work / "keys" / "keys.json"}"',
        f'state_dir = "{work / "state"}"',
        "dev_mode = true",
        (work / "exports" / "practices.toml").read_text(encoding="utf-8"),
    ]
    (work / "practicelake.toml").write_text("\n".join(settings), encoding="utf-8")
    run([cli, "run", "exports"], work, env)
    password = "an installed practicelake\n"
    run([cli, "users", "add", "mia"], work, env, stdin=password * 2)
    practice = next(p.name for p in (work / "exports").iterdir() if p.is_dir())
    run([cli, "users", "grant", "mia", "practice_owner", "--practice", practice], work, env)
    token = run([cli, "tokens", "create", "mia"], work, env).splitlines()[1]
    answer = run([cli, "sql", "--format", "csv", QUERY], work, env | {"PRACTICELAKE_TOKEN": token})
    header, row = answer.strip().splitlines()
    assert header == "days,kept"
    days, kept = map(int, row.split(","))
    assert days > 200 and kept > 1000  # a year of working days
