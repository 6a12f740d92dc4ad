"""The three distributions, built and installed as a user would, outside the repository.

Builds the sdists and wheels with `python -m build` (each wheel from its sdist), then
installs the wheels into fresh virtual environments in a temporary folder, with the
repository's pinned versions (constraints.txt) and nothing of the repository on
`sys.path`:

- `marksign-mock` alone pulls in neither Schemathesis nor Hypothesis, nor the Redis client:
  `--store redis://` then says in one line to install `marksign-mock[redis]`, which works;
- `marksign-client` + `marksign-mock` + pytest run a small integrator project (its own
  test file using the pytest fixtures and the typed client through a whole signing), and
  `marksign-mock --help` works;
- `marksign-contract` installs with its two siblings and answers `--help`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DISTRIBUTIONS = {"marksign-client": "generated_client", "marksign-mock": "mock"}
INTEGRATOR = Path(__file__).with_name("integrator")

pytestmark = [pytest.mark.slow, pytest.mark.dist]


def run(command: Sequence[str | Path], cwd: Path, **env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    result = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, f"{command}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result.stdout


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    for folder in ("generated_client", "mock", "contract"):
        run([sys.executable, "-m", "build", "--outdir", out, ROOT / folder], cwd=ROOT)
    return out


def venv(where: Path) -> Path:
    subprocess.run([sys.executable, "-m", "venv", where], check=True, timeout=120)
    return where / "bin"


def install(bin_dir: Path, dist: Path, *requirements: str) -> None:
    pip: list[str | Path] = [
        bin_dir / "python",
        "-m",
        "pip",
        "install",
        "--quiet",
        "--no-cache-dir",
    ]
    run([*pip, "--find-links", dist, "-c", ROOT / "constraints.txt", *requirements], cwd=dist)


def installed(bin_dir: Path) -> set[str]:
    listing = run([bin_dir / "python", "-m", "pip", "list", "--format=freeze"], cwd=bin_dir)
    return {line.split("==")[0].lower() for line in listing.splitlines() if line}


def test_each_distribution_has_an_sdist_and_a_wheel(dist: Path) -> None:
    names = sorted(path.name for path in dist.iterdir())
    for name in ("marksign_client", "marksign_mock", "marksign_contract"):
        assert any(n.startswith(name) and n.endswith(".tar.gz") for n in names), names
        assert any(n.startswith(name) and n.endswith("-py3-none-any.whl") for n in names), names
    run([sys.executable, "-m", "twine", "check", "--strict", *sorted(dist.iterdir())], cwd=ROOT)
    wheels = sorted(dist.glob("*.whl"))
    run([Path(sys.executable).with_name("check-wheel-contents"), *wheels], cwd=ROOT)


def test_the_mock_alone_runs_an_integrators_tests_without_schemathesis(
    dist: Path, tmp_path: Path
) -> None:
    bin_dir = venv(tmp_path / "venv")
    install(bin_dir, dist, "marksign-mock")
    packages = installed(bin_dir)
    assert "marksign-mock" in packages
    assert not {"schemathesis", "hypothesis", "marksign-contract", "redis", "hiredis"} & packages
    refused = subprocess.run(
        [bin_dir / "marksign-mock", "--store", "redis://127.0.0.1:9/0"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert refused.returncode == 2
    assert refused.stderr.splitlines()[-1] == (
        "marksign-mock: error: --store redis:// needs the Redis client (redis is missing): "
        "pip install 'marksign-mock[redis]'"
    )
    install(bin_dir, dist, "marksign-mock[redis]")
    assert {"redis", "hiredis"} <= installed(bin_dir)
    run([bin_dir / "python", "-c", "import marksign_mock.redis_store"], cwd=tmp_path)
    project = tmp_path / "integrator"
    project.mkdir()
    (project / "test_signing.py").write_text((INTEGRATOR / "test_signing.py").read_text())
    help_text = run([bin_dir / "marksign-mock", "--help"], cwd=project)
    assert "usage: marksign-mock" in help_text
    install(bin_dir, dist, "marksign-client", "pytest")
    output = run([bin_dir / "python", "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=project)
    assert "2 passed" in output
    spec = run(
        [
            bin_dir / "python",
            "-c",
            "import marksign_spec; print(marksign_spec.default_spec_path())",
        ],
        cwd=project,
    )
    assert "site-packages" in spec  # the packaged copy, not the repository's file
    assert str(ROOT) not in spec


def test_the_contract_runner_installs_with_its_siblings(dist: Path, tmp_path: Path) -> None:
    bin_dir = venv(tmp_path / "venv")
    install(bin_dir, dist, "marksign-contract")
    packages = installed(bin_dir)
    assert {"marksign-contract", "marksign-mock", "marksign-client", "schemathesis"} <= packages
    assert "usage: marksign-contract" in run(
        [bin_dir / "marksign-contract", "--help"], cwd=tmp_path
    )
