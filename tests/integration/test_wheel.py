"""The wheel carries what the agent needs at run time: built from this source tree by pip, the
installed packages find the form catalogue (and the default model) without the repository."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from classifiers.catalogue import load_catalogue
from classifiers.loading import load_classifier

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
NOT_SOURCE = shutil.ignore_patterns(".git", ".venv", "var", "build", "tests", "bench",
                                    "*.egg-info", "__pycache__", ".*_cache")
LOAD = """
import sys
import classifiers
from classifiers.catalogue import load_catalogue
from classifiers.loading import load_classifier
assert classifiers.__file__.startswith(sys.argv[1]), classifiers.__file__
print(",".join(sorted(form.code for form in load_catalogue().forms)))
print(load_classifier(None, None).version)
"""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``pip wheel`` of a copy of the source tree (the build writes next to its sources)."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "src"
    shutil.copytree(REPO, source, ignore=NOT_SOURCE)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w",
                    str(work / "dist"), str(source)], check=True, timeout=300,
                   capture_output=True)
    (built,) = (work / "dist").glob("aspa_capture-*.whl")
    return built


def test_the_form_catalogue_is_inside_the_wheel(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        assert "classifiers/forms.toml" in archive.namelist()


def test_the_installed_packages_load_the_catalogue_and_model_from_the_wheel(
        wheel: Path, tmp_path: Path) -> None:
    """GIVEN the wheel unpacked as pip installs it (pure Python: the archive's layout), run
    from a folder with no config/ THEN the default catalogue is the repository's, and the
    default model loads over it as it does here."""
    installed = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(installed)
    env = dict(os.environ, PYTHONPATH=str(installed))
    done = subprocess.run([sys.executable, "-c", LOAD, str(installed)], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    codes, version = done.stdout.splitlines()
    assert codes == ",".join(sorted(form.code for form in load_catalogue().forms))
    assert version == load_classifier(None, None).version  # the shipped model, not rules alone
