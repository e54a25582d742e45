"""One seaborn style and one function per kind of figure; each writes PDF + PNG atomically."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from .io import atomic_write  # noqa: E402

sns.set_theme(context="paper", style="whitegrid", font_scale=1.1)


def save_figure(fig: plt.Figure, stem: Path) -> dict[str, Path]:
    """Save ``stem.pdf`` and ``stem.png`` (200 dpi) atomically and close the figure."""
    paths = {}
    for ext in ("pdf", "png"):
        target = stem.with_suffix(f".{ext}")
        atomic_write(target, lambda p, ext=ext: fig.savefig(p, format=ext, dpi=200, bbox_inches="tight"))
        paths[ext] = target
    plt.close(fig)
    return paths


def plot_change_by_format(
    summary: pd.DataFrame, per_dataset: pd.DataFrame, formats: list[str], title: str
) -> plt.Figure:
    """Bars: aggregate % change of nDCG@10 vs float32 per format and model; dots: each collection."""
    fig, ax = plt.subplots(figsize=(8, 4.2))
    sns.barplot(data=summary, x="format", y="change_pct", hue="model", order=formats, ax=ax, alpha=0.8)
    sns.stripplot(data=per_dataset, x="format", y="change_pct", hue="model", order=formats, dodge=True,
                  ax=ax, size=3, color="black", legend=False)
    ax.axhline(0, color="black", lw=0.8)
    ax.set_yscale("symlog", linthresh=1.0)
    ax.set_xlabel("storage format")
    ax.set_ylabel("nDCG@10 change vs float32 (%)")
    ax.set_title(title)
    ax.tick_params(axis="x", rotation=30)
    return fig
