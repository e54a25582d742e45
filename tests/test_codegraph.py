"""A rule's code inputs are the import closure of what it runs (study.core.codegraph), so editing a module
reruns exactly the rules whose closure holds it.

* Synthetic packages under tmp_path: every import form, cycles, imports inside functions, package __init__ files.
* The real workflow (default and full profiles): the study/bench sources each planned job takes as inputs equal
  the closure of the notebook or module its shell command runs.
* In a copy of the repo whose outputs all exist and are up to date, editing a module makes exactly the rules
  whose closure holds it out of date (``Updated input files`` in a dry run; their downstream jobs follow).
"""

from __future__ import annotations

import ast
import os
import shlex
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import REPO
from test_cluster import SNAKEMAKE, workflow_env

from study.core import artifacts, codegraph

FIRST_PARTY = ("study", "bench")  # the Snakefile's


def write_tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


# --- synthetic packages ------------------------------------------------------------------------------------------

PACKAGE = {
    "study/__init__.py": "",
    "study/a/__init__.py": "",
    "study/a/b.py": "import os\nimport numpy as np\nfrom numpy import linalg\nfrom study.c import value\n",
    "study/c.py": "from . import d\nvalue = 1\n",  # relative: study.d
    "study/d.py": "def late():\n    from study.e.f import g\n    return g\n",  # inside a function
    "study/e/__init__.py": "from .f import g\n",  # relative, in a package
    "study/e/f.py": "from study import a\ng = 2\n",  # back to study.a: a cycle
    "study/unused.py": "import study.a.b\n",
    "studyx/__init__.py": "",  # not a study module, though its name starts like one
}


def test_closure_follows_every_import_form_through_cycles_and_functions(tmp_path):
    root = write_tree(tmp_path, PACKAGE)
    assert codegraph.closure("study.a.b", root) == [
        "study/__init__.py",
        "study/a/__init__.py",
        "study/a/b.py",
        "study/c.py",
        "study/d.py",
        "study/e/__init__.py",
        "study/e/f.py",
    ]


def test_import_of_a_dotted_module_runs_every_package_on_the_way(tmp_path):
    root = write_tree(tmp_path, PACKAGE | {"run.py": "import study.e.f\nimport studyx\n"})
    assert codegraph.closure("run.py", root) == codegraph.closure("study.e.f", root)
    assert "study/e/__init__.py" in codegraph.closure("run.py", root)


def test_from_package_import_a_submodule_or_a_name(tmp_path):
    root = write_tree(
        tmp_path,
        PACKAGE
        | {
            "sub.py": "from study.e import f\n",
            "name.py": "from study.c import value\n",
            "star.py": "from study.a import *\n",
        },
    )
    assert "study/e/f.py" in codegraph.closure("sub.py", root)
    assert codegraph.closure("name.py", root) == codegraph.closure("study.c", root)
    assert codegraph.closure("star.py", root) == ["study/__init__.py", "study/a/__init__.py"]


def test_relative_imports_resolve_from_the_module_or_package(tmp_path):
    root = write_tree(
        tmp_path,
        {
            "study/__init__.py": "",
            "study/p/__init__.py": "from .. import top\n",
            "study/p/q.py": "from ..top import x\nfrom . import r\n",
            "study/p/r.py": "",
            "study/top.py": "x = 1\n",
        },
    )
    assert codegraph.closure("study.p.q", root) == [
        "study/__init__.py",
        "study/p/__init__.py",
        "study/p/q.py",
        "study/p/r.py",
        "study/top.py",
    ]


def test_a_script_entry_is_not_its_own_closure_and_third_party_is_ignored(tmp_path):
    root = write_tree(tmp_path, PACKAGE | {"notebooks/01-x.py": "import pandas\nfrom study.c import value\n"})
    assert codegraph.closure("notebooks/01-x.py", root) == codegraph.closure("study.c", root)
    assert codegraph.closure(["notebooks/01-x.py", "study.unused"], root)[-1] == "study/unused.py"


def test_packages_name_the_first_party(tmp_path):
    root = write_tree(
        tmp_path,
        PACKAGE
        | {"bench/__init__.py": "", "bench/m.py": "from study.c import value\n", "nb.py": "from bench.m import x\n"},
    )
    assert codegraph.closure("nb.py", root) == []
    assert codegraph.closure("nb.py", root, packages=FIRST_PARTY)[:2] == ["bench/__init__.py", "bench/m.py"]


def test_an_edited_file_is_read_again(tmp_path):
    root = write_tree(tmp_path, PACKAGE)
    assert "study/unused.py" not in codegraph.closure("study.c", root)
    (root / "study/c.py").write_text("from . import d\nfrom study import unused\nvalue = 1\n")
    assert "study/unused.py" in codegraph.closure("study.c", root)


def test_a_missing_entry_is_an_error(tmp_path):
    root = write_tree(tmp_path, PACKAGE)
    with pytest.raises(ModuleNotFoundError):
        codegraph.closure("study.nowhere", root)
    with pytest.raises(FileNotFoundError):
        codegraph.closure("notebooks/none.py", root)


# --- the workflow's plan -------------------------------------------------------------------------------------------


@dataclass
class Job:
    rule: str
    inputs: list[str]
    outputs: list[str]
    reason: str
    shell: str


def parse_plan(log: str) -> list[Job]:
    """The jobs of a dry run's log (``-n -p``)."""
    jobs: list[Job] = []
    for line in log.splitlines():
        if line.startswith(("rule ", "localrule ")):
            jobs.append(Job(line.split()[1].rstrip(":"), [], [], "", ""))
        elif jobs and line.startswith("Shell command: "):
            jobs[-1].shell = line[len("Shell command: ") :]
        elif jobs and line.startswith("    ") and ": " in line:
            key, value = line.strip().split(": ", 1)
            if key in ("input", "output"):
                getattr(jobs[-1], key + "s").extend(value.split(", "))
            elif key == "reason":
                jobs[-1].reason = value
    return jobs


def plan(snakefile: Path, workdir: Path, profile: str, *options: str) -> list[Job]:
    cmd = [
        *SNAKEMAKE,
        "-n",
        "-p",
        "--cores",
        "1",
        "--snakefile",
        str(snakefile),
        "--directory",
        str(workdir),
        "--configfile",
        str(snakefile.parent / f"config/{profile}.yaml"),
        *options,
    ]
    done = subprocess.run(cmd, env=workflow_env(workdir / "cache"), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return parse_plan(done.stdout + done.stderr)


def entries_of(shell: str, repo: Path) -> list[str]:
    """What a job's shell command runs: a notebook's jupytext source, the module of ``python -m`` or the first-party
    modules that ``python -c`` code imports."""
    words = shlex.split(shell)
    if "papermill" in words:
        notebook = Path(next(w for w in words if w.endswith(".ipynb")))
        return [notebook.relative_to(repo).with_suffix(".py").as_posix()]
    after = {flag: words[i + 1] for i, flag in enumerate(words[:-1]) if flag in ("-m", "-c")}
    if "-c" in after:
        tree = ast.parse(after["-c"])
        return sorted({n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)} & first_party_modules(repo))
    return [after["-m"]] if after.get("-m", "").startswith(FIRST_PARTY) else []


def first_party_modules(repo: Path) -> set[str]:
    return {codegraph.module_name(p, repo) for package in FIRST_PARTY for p in (repo / package).rglob("*.py")}


def code_inputs(job: Job, repo: Path) -> list[str]:
    """The job's inputs that are first-party sources, relative to the repo."""
    roots = tuple(f"{repo / p}/" for p in FIRST_PARTY)
    return sorted(Path(f).relative_to(repo).as_posix() for f in job.inputs if f.startswith(roots))


def expected_code(job: Job, repo: Path) -> list[str]:
    """The closure of what the job runs, and the files of each package in it that are not Python."""
    entries = entries_of(job.shell, repo) if job.shell != "None" else []
    files = codegraph.closure(entries, repo, FIRST_PARTY)
    data = [p.relative_to(repo).as_posix() for f in files if f.endswith("/__init__.py")
            for p in (repo / f).parent.iterdir() if p.is_file() and p.suffix not in (".py", ".pyc")]
    return sorted(files + data)


def output_root(tmp_path: Path) -> Path:
    """An output folder where the scaling stage exists (it needs results/bench.csv)."""
    (tmp_path / "out/results").mkdir(parents=True)
    shutil.copy(REPO / "results/bench.csv", tmp_path / "out/results/bench.csv")
    return tmp_path / "out"


@pytest.mark.parametrize("profile", ["default", "full"])
def test_every_rule_takes_the_import_closure_of_what_it_runs(tmp_path, profile):
    jobs = plan(REPO / "Snakefile", output_root(tmp_path), profile, "--forceall")
    rules = {job.rule for job in jobs}
    embed = "embed_minilm_l6" if profile == "default" else "embed"  # one job per model where no stage scatters
    assert {"prepare_model", embed, "scaling", "tradeoff", "explorer", "paper", "all"} <= rules
    assert {f"publish_{s}" for s in artifacts.PUBLISHED_STAGES} | set(artifacts.PUBLISHED_STAGES) <= rules
    for job in jobs:
        if job.rule != "all":
            assert entries_of(job.shell, REPO), f"{job.rule}: what does it run? {job.shell}"
        assert code_inputs(job, REPO) == expected_code(job, REPO), job.rule
    publish = next(job for job in jobs if job.rule == "publish_codecs")
    assert "study/analysis/tradeoff.py" in code_inputs(publish, REPO)  # pareto_mask draws fig-codecs


# --- editing a module in an up-to-date copy ----------------------------------------------------------------------

COPIED = ("Snakefile", "workflow", "config", "notebooks", "study", "bench", "paper/main.tex", "paper/references.bib")
EDITED = (
    "study/analysis/tradeoff.py",
    "study/figures/codecs.py",
    "study/figures/quantization.py",
    "study/compress/formats.py",
    "study/analysis/scorecard.py",
    "study/figures/explorer/explorer.js",  # package data: the explorer's script
    "bench/common.py",
)


def copy_repo(dest: Path) -> Path:
    for name in COPIED:
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__", "*.ipynb_checkpoints"))
        else:
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    return dest


def set_mtime(paths, when: float) -> None:
    for path in paths:
        os.utime(path, (when, when))


def make_up_to_date(repo: Path, out: Path, jobs: list[Job]) -> None:
    """Every planned output exists and is newer than every source and input."""
    now = time.time()
    set_mtime([p for p in [*repo.rglob("*"), *out.rglob("*")] if p.is_file()], now - 3600)
    outputs = [out / f for job in jobs for f in job.outputs]
    for path in outputs:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
    set_mtime(outputs, now - 1800)


def updated_inputs(job: Job) -> list[str]:
    """The inputs a job finds newer than its outputs (``Updated input files: ...`` of its reason)."""
    part = next((p for p in job.reason.split("; ") if p.startswith("Updated input files: ")), "")
    return part[len("Updated input files: ") :].split(", ") if part else []


def downstream(jobs: list[Job], rules: set[str]) -> set[str]:
    """The rules that read, directly or not, what ``rules`` write."""
    found, todo = set(), set(rules)
    while todo:
        written = {f for job in jobs if job.rule in todo for f in job.outputs}
        todo = {job.rule for job in jobs if written & set(job.inputs)} - found
        found |= todo
    return found


def test_editing_a_module_reruns_exactly_the_rules_whose_closure_holds_it(tmp_path):
    """Snakemake checks a job's own inputs only while nothing before it reruns (a job after one that reruns reruns
    anyway, its reason naming that job): so the rules that see the edit themselves are some of those whose closure
    holds the module, every one of those reruns, and nothing else reruns but what follows them."""
    repo, out = copy_repo(tmp_path / "repo"), output_root(tmp_path)
    jobs = plan(repo / "Snakefile", out, "default", "--forceall")
    make_up_to_date(repo, out, jobs)
    assert plan(repo / "Snakefile", out, "default") == []  # nothing to do
    closures = {job.rule: set(expected_code(job, repo)) for job in jobs}

    for module in EDITED:
        path = repo / module
        path.write_text(path.read_text() + "\n# edited\n")
        rerun = plan(repo / "Snakefile", out, "default")
        importing = {rule for rule, code in closures.items() if module in code}
        seeing = {job.rule for job in rerun if str(path) in updated_inputs(job)}
        assert seeing and seeing <= importing, module
        assert importing <= {job.rule for job in rerun}, module
        assert {job.rule for job in rerun} <= importing | downstream(jobs, importing), module
        assert importing - seeing <= downstream(jobs, seeing), module
        set_mtime([path], time.time() - 3600)
    # the example: pareto_mask (analysis/tradeoff.py) draws fig-codecs
    assert "publish_codecs" in {rule for rule, code in closures.items() if "study/analysis/tradeoff.py" in code}
    assert {rule for rule, code in closures.items() if "bench/common.py" in code} == {"scaling"}
    assert "explorer" in {rule for rule, code in closures.items() if "study/figures/explorer/explorer.js" in code}


def test_no_rule_input_is_ancient():
    """A job behind an ancient() input is not checked at all while the job before it reruns (Snakemake issue
    #4166): its own edited code would go unnoticed."""
    sources = [REPO / "Snakefile", *sorted((REPO / "workflow/rules").glob("*.smk"))]
    code = [line.split("#")[0] for path in sources for line in path.read_text().splitlines()]
    assert not [line for line in code if "ancient(" in line]
