"""Write the stage notebooks (committed without outputs) from the cell sources below.

Edit the cells in ``tools/notebook_specs/nbNN_*.py`` and run
``python -m tools.make_notebooks``; tests check that the committed notebooks equal what this writes.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parents[1] / "notebooks"


def notebook(cells: list[tuple[str, str]]) -> nbformat.NotebookNode:
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    for kind, source in cells:
        if kind == "md":
            nb.cells.append(new_markdown_cell(source))
        else:
            cell = new_code_cell(source)
            if kind == "parameters":
                cell.metadata["tags"] = ["parameters"]
            nb.cells.append(cell)
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i:02d}"
    return nb


def load_specs() -> dict[str, list[tuple[str, str]]]:
    """Every ``tools/notebook_specs/nb*.py`` module, by notebook file name."""
    specs = {}
    for path in sorted((Path(__file__).parent / "notebook_specs").glob("nb*.py")):
        module = importlib.import_module(f"tools.notebook_specs.{path.stem}")
        specs[module.NAME] = module.CELLS
    return specs


def main() -> int:
    for name, cells in load_specs().items():
        nbformat.write(notebook(cells), HERE / name)
        print("wrote", HERE / name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
