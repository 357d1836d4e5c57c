"""The package surface: light import, optional extras, error tree, CLI."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import chainmall
from chainmall import exceptions
from chainmall._optional import import_optional
from chainmall.cli import main

HEAVY = ("torch", "xgboost", "matplotlib", "dask", "statsmodels")


def test_import_chainmall_loads_no_heavy_dependency() -> None:
    code = (
        "import sys, chainmall, chainmall.ledger, chainmall.datasets;"
        f"print([m for m in {HEAVY!r} if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def _child_cpu_seconds(code: str) -> float:
    """CPU seconds (user + system) a fresh interpreter spends running ``code``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([sys.executable, "-c", code], check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def test_import_costs_under_half_a_second_of_cpu() -> None:
    """CPU time, not wall time, so a busy machine does not fail the check; best of 3."""
    bare = min(_child_cpu_seconds("pass") for _ in range(3))
    full = min(_child_cpu_seconds("import chainmall") for _ in range(3))
    assert full - bare < 0.5


def test_every_error_is_a_chainmall_error() -> None:
    for name in exceptions.__all__:
        cls = getattr(exceptions, name)
        base = exceptions.ChainmallWarning if "Warning" in name else exceptions.ChainmallError
        assert issubclass(cls, base), name
        assert getattr(chainmall, name) is cls


def test_import_optional_names_the_extra() -> None:
    assert import_optional("json", extra="none").dumps([]) == "[]"
    with pytest.raises(exceptions.OptionalDependencyError, match=r'pip install "chainmall\[ocr\]"'):
        import_optional("chainmall_no_such_module", extra="ocr")


def test_cli_version_and_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert chainmall.__version__ in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "demo" in capsys.readouterr().out


def test_cli_demo_prints_the_shop_summary(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--members", "300", "--months", "3", "--json", "--no-report"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["members"] == 300


def test_cli_reports_chainmall_errors_without_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--members", "0"]) == 2
    assert capsys.readouterr().err.startswith("chainmall: error:")


def test_python_dash_m_runs_the_cli() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "chainmall", "--version"], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == f"chainmall {chainmall.__version__}"


def test_cli_segment_writes_one_row_per_customer(tmp_path, capsys) -> None:
    purchases = tmp_path / "purchases.csv"
    purchases.write_text(
        "buyer,paid_at,yuan\n"
        "a,2025-01-02T10:00:00+08:00,30\n"
        "a,2025-03-01T10:00:00+08:00,50\n"
        "b,2025-02-10T10:00:00+08:00,20\n"
    )
    out = tmp_path / "segments.csv"
    args = ["segment", str(purchases), str(out), "--columns", "user_id=buyer,ts=paid_at"]
    assert main([*args, "--columns", "amount_fen=yuan"]) == 0
    rows = out.read_text().splitlines()
    assert len(rows) == 3 and "segment" in rows[0]
    assert main([*args, "--columns", "amount_fen=amount"]) == 2
    assert "has no column 'amount'" in capsys.readouterr().err


def _extra_requirements(extra: str, environment: dict[str, str]) -> list[str]:
    """Distribution names the ``extra`` pulls on a platform described by ``environment``."""
    requirements = pytest.importorskip("packaging.requirements")
    pyproject = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    found = []
    for text in pyproject["project"]["optional-dependencies"][extra]:
        requirement = requirements.Requirement(text)
        if requirement.marker is None or requirement.marker.evaluate(environment):
            found.append(requirement.name)
    return found


@pytest.mark.parametrize(
    ("system", "machine", "expected"),
    [
        ("Linux", "x86_64", ["xgboost-cpu"]),
        ("Linux", "aarch64", ["xgboost"]),
        ("Darwin", "arm64", ["xgboost"]),
        ("Windows", "AMD64", ["xgboost"]),
    ],
)
def test_xgboost_extra_is_the_cpu_build_where_the_plain_wheel_pulls_nccl(
    system: str, machine: str, expected: list[str]
) -> None:
    """Only the Linux x86-64 ``xgboost`` wheel depends on NVIDIA's NCCL (~470 MB)."""
    environment = {"platform_system": system, "platform_machine": machine}
    assert _extra_requirements("xgboost", environment) == expected
