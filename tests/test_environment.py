"""The pip path (pyproject.toml) and the conda path (environment.yml) install the same pins."""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import version

import pytest

from autograder.course import REPO_ROOT, find_chapters

pytestmark = pytest.mark.fast  # kernel-free: `make test-fast` runs it

PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([^\s;]+)$")


def _pyproject_pins() -> dict[str, str]:
    data = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    pins = {}
    for requirement in data["project"]["dependencies"]:
        match = PIN.match(requirement.strip())
        assert match, f"pyproject dependency is not pinned exactly: {requirement!r}"
        pins[match[1].lower()] = match[2]
    return pins


def _environment_pins() -> tuple[dict[str, str], list[str]]:
    pins, others = {}, []
    for line in (REPO_ROOT / "environment.yml").read_text(encoding="utf-8").splitlines():
        if not line.startswith("      - "):  # the entries of the pip: list
            continue
        entry = line.strip()[2:].strip()
        match = PIN.match(entry)
        if match:
            pins[match[1].lower()] = match[2]
        else:
            others.append(entry)
    return pins, others


def test_environment_yml_names_the_same_pins_as_pyproject():
    env_pins, _ = _environment_pins()
    assert env_pins == _pyproject_pins()


def test_environment_yml_uses_python_311_and_installs_the_course_package():
    text = (REPO_ROOT / "environment.yml").read_text(encoding="utf-8")
    assert re.search(r"^\s+- python=3\.11\s*$", text, re.M)
    assert re.search(r"^\s+- -e \.\s*$", text, re.M)


def test_installed_versions_match_the_pins():
    wrong = {name: (pin, version(name)) for name, pin in _pyproject_pins().items()
             if version(name) != pin}
    assert not wrong, f"installed versions differ from the pins (pin, installed): {wrong}"


def test_the_required_lines_are_pinned():
    pins = _pyproject_pins()
    assert pins["tensorflow"].startswith("2.21.")
    assert pins["keras"].startswith("3.15.")
    assert pins["nbgrader"].startswith("0.9.")
    assert pins["nbval"].startswith("0.11.")
    assert pins["jupyterlab"].startswith("4.")
    assert {"matplotlib", "numpy", "scikit-learn", "pytest"} <= set(pins)


def _version_note_code(chapter) -> str:
    from autograder import notebook

    setup = next(c for c in notebook.read(chapter.instructor_notebook).cells
                 if c.cell_type == "code")
    return setup.source[setup.source.index("COURSE_VERSIONS = "):]


@pytest.mark.parametrize("chapter", find_chapters(),
                         ids=lambda c: c.name)
def test_the_setup_cell_says_in_one_line_when_versions_differ(chapter, capsys):
    """Each chapter's setup cell knows the pinned versions and prints one line when others run
    (Colab's may); on the pins it prints nothing."""
    from types import SimpleNamespace

    pins = _pyproject_pins()
    code = _version_note_code(chapter)
    for tf_version, keras_version in [(pins["tensorflow"], pins["keras"]), ("2.19.0", "3.8.0")]:
        exec(code, {"tf": SimpleNamespace(__version__=tf_version),
                    "keras": SimpleNamespace(__version__=keras_version)})
    said = capsys.readouterr().out
    assert said.count("\n") == 1, said
    assert said.startswith(f"Note: this course was checked on TensorFlow {pins['tensorflow']} "
                           f"and Keras {pins['keras']};")
