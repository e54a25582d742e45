"""Mutation score of the modules that decide the study's conclusions (mutmut), into ``results/bench.csv``.

    python -m bench.mutants                          # every module of bench/mutation/ (``make mutants``)
    python -m bench.mutants --module comparison      # one module: bench/mutation/comparison.toml
    python -m bench.mutants --module comparison --survivors   # print each surviving mutant's diff
    python -m bench.mutants --module comparison --reuse       # re-read the last run's results, run nothing
    python -m bench.mutants --module comparison --sample 150  # 150 random mutants: an estimate with its CI

A mutant is a one-token change of a module (``<`` for ``<=``, a constant, a dropped argument) made by mutmut;
a good test suite fails on it ("killed"). Each module is mutated in a workspace of its own,
``build/mutants/<name>/`` (a copy of ``study/``, ``tests/`` and what the tests read, with a ``[tool.mutmut]``
section naming that one file and its targeted tests), so the repository's tree is never mutated and several
modules can run side by side. mutmut runs, for each mutant, only the selected tests that reach the mutated
function. Where a module entry lists ``functions``, only the mutants of those functions count (the codecs
stage's training and plan logic, not its tables).

Score = killed / (mutants − equivalent). Killed includes mutants whose tests time out (the mutant made them
loop). *Equivalent* mutants change no behaviour any caller can observe; each is listed in
``bench/mutation/<name>.toml`` with its mutated line and the reason, and an entry whose line no longer matches the
mutant's diff is stale: it does not count, and the run says so. Rows: benchmark ``mutants``, case = module,
metrics ``mutants``, ``killed``, ``survived``, ``equivalent``, ``no_tests``, ``timeout``, ``score_pct``
(non-equivalent killed), ``seconds``.

Written by hand because no tool turns mutmut's per-mutant results into per-module scores with a reviewed
list of equivalents; mutmut itself does the mutating and the test selection.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import shutil
import subprocess
import sys
import time
import tomllib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from bench.common import make_rows, write_rows
from study.core.paths import data_root

REPO = Path(__file__).resolve().parents[1]
SPECS = REPO / "bench" / "mutation"
WORKSPACES = REPO / "build" / "mutants"
COPIED = ("study", "tests", "bench", "results", "notebooks", "paper", "config", "figures", "workflow", "profiles",
          "Snakefile", "environment.yml", "README.md", "Makefile")
KILLED = ("killed", "timeout")
SAMPLE_FILE = "sampled-mutants.txt"
SECONDS_FILE = "seconds.txt"  # how long the workspace's run took, so --reuse reports it too
GOAL_PCT = 90.0


@dataclass(frozen=True)
class Module:
    """One module held to a mutation score: its file, the tests that guard it, optionally some functions."""

    name: str
    path: str
    tests: tuple[str, ...]
    functions: tuple[str, ...] = ()
    deselect: str = ""

    @property
    def dotted(self) -> str:
        return self.path.removesuffix(".py").replace("/", ".")

    def counts(self, mutant: str) -> bool:
        """Whether ``mutant`` (a mutmut name) belongs to the part of the module that is scored."""
        if not mutant.startswith(self.dotted + "."):
            return False
        return not self.functions or any(re.search(rf"(x_|ǁ){re.escape(f)}__mutmut_\d+$", mutant)
                                         for f in self.functions)


@dataclass(frozen=True)
class Equivalent:
    mutant: str
    line: str
    reason: str


def load_spec(folder: Path = SPECS) -> tuple[dict[str, Module], dict[str, Equivalent]]:
    """The modules (one ``bench/mutation/<name>.toml`` each) and their reviewed equivalent mutants."""
    modules, equivalents = {}, {}
    for path in sorted(folder.glob("*.toml")):
        m = tomllib.loads(path.read_text(encoding="utf-8"))
        modules[path.stem] = Module(path.stem, m["path"], tuple(m["tests"]), tuple(m.get("functions", ())),
                                    m.get("deselect", ""))
        equivalents |= {e["mutant"]: Equivalent(e["mutant"], e["line"], e["reason"]) for e in m.get("equivalent", [])}
    return modules, equivalents


def test_selection(module: Module) -> list[str]:
    """pytest's arguments for the module's targeted tests (stop at the first failure)."""
    selection = [*module.tests, "-p", "no:cacheprovider", "-x", "-q"]
    return selection + (["-k", f"not ({module.deselect})"] if module.deselect else [])


def mutmut_config(module: Module) -> str:
    """The ``[tool.mutmut]`` section of a module's workspace."""
    selection = test_selection(module)
    items = {"source_paths": ["study"], "only_mutate": [module.path], "also_copy": list(COPIED[2:]),
             "pytest_add_cli_args_test_selection": selection, "use_git_change_detection": False,
             "on_dependency_change": "rerun"}
    lines = ["", "[tool.mutmut]"]
    for key, value in items.items():
        lines.append(f"{key} = {value!r}".replace("'", '"').replace("False", "false"))
    return "\n".join(lines) + "\n"


def copy_repository(work: Path) -> Path:
    """A fresh copy of the repository's code, tests and what the tests read, in ``work``."""
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    for name in COPIED:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, work / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        elif source.exists():
            shutil.copy2(source, work / name)
    return work


def prepare_workspace(module: Module) -> Path:
    """A fresh copy of the repository under ``build/mutants/<name>/`` with the module's mutmut section."""
    work = copy_repository(WORKSPACES / module.name)
    pyproject = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    (work / "pyproject.toml").write_text(pyproject + mutmut_config(module), encoding="utf-8")
    return work


def environment() -> dict[str, str]:
    """The tests' environment inside a workspace: real data folder, one thread, offline, shared test cache, no fit
    cache."""
    env = dict(os.environ, STUDY_DATA_DIR=str(data_root()), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
               OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONHASHSEED="0",
               STUDY_FIT_CACHE="off")  # every mutant shares one source file: a fit cached for one would serve the next
    env.setdefault("STUDY_TEST_CACHE", str(WORKSPACES / "test-cache"))
    Path(env["STUDY_TEST_CACHE"]).mkdir(parents=True, exist_ok=True)
    env.pop("CI", None)  # an environment skip is not a mutant's fault: the full suite's CI rule is checked by CI
    return env


def mutmut(work: Path, *args: str) -> str:
    """Run one mutmut command in a workspace and return its standard output."""
    command = [str(Path(sys.executable).with_name("mutmut")), *args]
    done = subprocess.run(command, cwd=work, env=environment(), capture_output=True, text=True)
    if done.returncode != 0 and args[0] != "run":
        raise RuntimeError(f"mutmut {' '.join(args)} failed in {work}:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return done.stdout


def statuses(work: Path, module: Module) -> dict[str, str]:
    """Mutant name → mutmut status, for the scored part of the module (only the sample, after a sampled run)."""
    out = mutmut(work, "results", "--all", "true")
    found = dict(re.findall(r"^\s+(\S+): (.+)$", out, flags=re.M))
    sample = work / SAMPLE_FILE
    chosen = set(sample.read_text(encoding="utf-8").split()) if sample.exists() else None
    return {name: status.strip() for name, status in found.items()
            if module.counts(name) and (chosen is None or name in chosen)}


def generated(work: Path, module: Module) -> list[str]:
    """Every scored mutant of the module, generated (and the tests' stats collected) without running any."""
    mutmut(work, "run", "no-such-mutant")  # mutmut generates, collects stats, then finds nothing to run
    meta = json.loads((work / "mutants" / f"{module.path}.meta").read_text(encoding="utf-8"))
    return sorted(name for name in meta["exit_code_by_key"] if module.counts(name))


def wilson(killed: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The 95 % Wilson interval of a proportion, in %: the uncertainty of a sampled score."""
    if n == 0:
        return float("nan"), float("nan")
    p = killed / n
    centre, half = p + z * z / (2 * n), z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return 100 * (centre - half) / (1 + z * z / n), 100 * (centre + half) / (1 + z * z / n)


def diff(work: Path, mutant: str) -> str:
    return mutmut(work, "show", mutant)


def changed_lines(mutant_diff: str) -> list[str]:
    """The lines a mutant adds (``+`` lines of its diff, without the marker)."""
    return [ln[1:].strip() for ln in mutant_diff.splitlines() if ln.startswith("+") and not ln.startswith("+++")]


def score(work: Path, module: Module, equivalents: dict[str, Equivalent]) -> tuple[dict[str, float], list[str]]:
    """The module's counts and score, and the messages about stale equivalence entries."""
    found = statuses(work, module)
    counts = Counter(found.values())
    equivalent, stale = 0, []
    for name, status in found.items():
        entry = equivalents.get(name)
        if entry is None or status in KILLED:
            continue
        if entry.line.strip() in changed_lines(diff(work, name)):
            equivalent += 1
        else:
            stale.append(f"{name}: listed as equivalent with line {entry.line!r}, which its diff no longer adds")
    killed = sum(counts[s] for s in KILLED)
    scored = len(found) - equivalent
    result = {"mutants": len(found), "killed": killed, "survived": counts["survived"], "equivalent": equivalent,
              "no_tests": counts["no tests"], "timeout": counts["timeout"],
              "score_pct": round(100.0 * killed / scored, 2) if scored else 100.0}
    return result, stale


def survivors(work: Path, module: Module, equivalents: dict[str, Equivalent]) -> list[tuple[str, str]]:
    """(name, diff) of each surviving mutant not listed as equivalent."""
    return [(name, diff(work, name)) for name, status in sorted(statuses(work, module).items())
            if status not in KILLED and name not in equivalents]


def run_module(module: Module, reuse: bool = False, sample: int = 0) -> tuple[Path, float]:
    """Mutate one module in its workspace (or reuse the last run's); returns the workspace and the seconds.
    With ``sample``, only that many mutants drawn at random (seed 0) are run: an estimate, never written."""
    work = WORKSPACES / module.name
    if reuse and (work / "mutants").exists():
        timed = work / SECONDS_FILE
        return work, float(timed.read_text()) if timed.exists() else float("nan")
    work = prepare_workspace(module)
    started = time.perf_counter()
    chosen: list[str] = []
    if sample:
        every = generated(work, module)
        chosen = sorted(random.Random(0).sample(every, min(sample, len(every))))
        (work / SAMPLE_FILE).write_text("\n".join(chosen) + "\n", encoding="utf-8")
    out = mutmut(work, "run", "--max-children", str(os.cpu_count() or 1), *chosen)
    seconds = time.perf_counter() - started
    if "Stopping early" in out or not (work / "mutants").exists():
        raise RuntimeError(f"mutmut did not run the mutants of {module.path}:\n{out[-3000:]}")
    (work / SECONDS_FILE).write_text(f"{seconds:.1f}\n", encoding="utf-8")
    return work, seconds


def measure(names: list[str], reuse: bool, show: bool, sample: int = 0) -> list[dict]:
    """Run (or re-read) each named module and return its bench measurements."""
    modules, equivalents = load_spec()
    unknown = [n for n in names if n not in modules]
    if unknown:
        raise SystemExit(f"parameter 'module': invalid value {unknown[0]!r}; allowed: {', '.join(modules)}")
    rows = []
    for name in names or list(modules):
        module = modules[name]
        print(f"[mutants] {name}: {module.path} …", flush=True)
        work, seconds = run_module(module, reuse, sample)
        result, stale = score(work, module, equivalents)
        result["seconds"] = round(seconds, 1)
        print(f"[mutants] {name}: {result}", flush=True)
        if (work / SAMPLE_FILE).exists():
            low, high = wilson(result["killed"], result["mutants"] - result["equivalent"])
            print(f"[mutants] {name}: a random sample of {result['mutants']} mutants; score 95 % CI "
                  f"{low:.1f}–{high:.1f} %", flush=True)
        for message in stale:
            print(f"[mutants] stale equivalence entry: {message}", flush=True)
        if show:
            for mutant, text in survivors(work, module, equivalents):
                print(f"\n### {mutant}\n{text}")
        units = {"score_pct": "%", "seconds": "s"}
        rows += [{"case": name, "metric": k, "value": v, "unit": units.get(k, "mutants")} for k, v in result.items()]
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--module", nargs="+", default=[], help="bench/mutation/<name>.toml names (default: all)")
    parser.add_argument("--reuse", action="store_true", help="re-read the last run's results instead of running")
    parser.add_argument("--survivors", action="store_true", help="print the diff of every surviving mutant")
    parser.add_argument("--sample", type=int, default=0, help="run only N random mutants (an estimate; not written)")
    parser.add_argument("--no-write", action="store_true", help="do not write results/bench.csv")
    args = parser.parse_args(argv)
    rows = measure(args.module, args.reuse, args.survivors, args.sample)
    measured = [r for r in rows if r["metric"] != "seconds" or r["value"] == r["value"]]
    if not (args.no_write or args.sample):
        write_rows(make_rows("mutants", measured), only_cases=True)
    below = sorted({r["case"] for r in rows if r["metric"] == "score_pct" and r["value"] < GOAL_PCT})
    if below:
        print(f"[mutants] below {GOAL_PCT:g} %: {', '.join(below)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
