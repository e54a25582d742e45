"""environment.yml and pyproject.toml describe the same environment."""

import tomllib

import yaml
from conftest import REPO
from packaging.requirements import Requirement


def _normalise(req: str) -> tuple[str, str]:
    r = Requirement(req)
    return r.name.lower().replace("_", "-"), str(r.specifier)


def test_environment_yml_lists_the_same_dependencies_as_pyproject():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    declared = set(map(_normalise, project["dependencies"] + project["optional-dependencies"]["dev"]))
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    assert set(map(_normalise, pip_section)) == declared
    assert "python=3.11" in env["dependencies"]


def test_torch_is_pinned_to_the_local_cpu_wheel():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert "torch==2.13.0" in project["dependencies"]
