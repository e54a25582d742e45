"""Figures drawn for print: the trade-off (Fig. 7, the README's figure) at the paper's text width, every text at
≥ 7 pt, no two texts overlapping, at most eight colours, colour-blind-safe (Okabe-Ito)."""

from __future__ import annotations

import itertools

import matplotlib.colors as mcolors
import pandas as pd
import pytest
from conftest import REPO

from study.figures import plots
from study.figures import tradeoff as fig_tradeoff

CONFIGS = REPO / "results/full/tables/tradeoff-configurations.csv"  # the committed full profile's configurations


@pytest.fixture(scope="module")
def drawn():
    configs = pd.read_csv(CONFIGS)
    fig = fig_tradeoff.plot_tradeoff(configs)
    fig.canvas.draw()
    yield configs, fig
    import matplotlib.pyplot as plt

    plt.close(fig)


def overlapping(fig, texts, same_text_may_touch: bool = False) -> list[tuple[str, str]]:
    """Pairs of texts of ``fig`` whose drawn boxes overlap (``same_text_may_touch``: not two equal texts)."""
    renderer = fig.canvas.get_renderer()
    boxes = [(t.get_text()[:30], t.get_window_extent(renderer)) for t in texts if t.get_text().strip()]
    return [(a, b) for (a, ba), (b, bb) in itertools.combinations(boxes, 2)
            if ba.overlaps(bb) and (a != b or not same_text_may_touch)]


def panel_texts(fig) -> list:
    """Every axis' annotations and title."""
    return [t for ax in fig.axes for t in [*ax.texts, ax.title]]


def texts_of(fig):
    return [t for t in fig.findobj(lambda o: hasattr(o, "get_text") and hasattr(o, "get_fontsize"))
            if t.get_text() and t.get_visible()]


def test_the_tradeoff_is_drawn_at_the_text_width_with_7pt_text(drawn):
    configs, fig = drawn
    assert fig.get_size_inches()[0] == pytest.approx(plots.TEXT_WIDTH_IN)
    sizes = [t.get_fontsize() for t in texts_of(fig)]
    assert sizes and min(sizes) >= 7.0


def test_no_two_texts_of_the_tradeoff_overlap(drawn):
    _, fig = drawn
    assert overlapping(fig, panel_texts(fig)) == []


def test_the_tradeoff_uses_at_most_eight_colour_blind_safe_colours(drawn):
    configs, fig = drawn
    used = {mcolors.to_hex(c) for ax in fig.axes for coll in ax.collections for c in coll.get_facecolors()
            if c[3] > 0}
    palette = {mcolors.to_hex(c) for c in plots.OKABE_ITO} | {"#ffffff"}  # white: ≈ float32 (hollow)
    assert used <= palette and len(used - {"#ffffff"}) <= 8
    assert set(configs.kind.map(plots.colour_group)) <= set(plots.GROUP_ORDER)


def test_every_frontier_point_is_numbered_and_listed(drawn):
    configs, fig = drawn
    for model in dict.fromkeys(configs.model):
        front = configs[(configs.model == model) & configs.on_frontier].sort_values("compression_ratio")
        key = fig_tradeoff.frontier_key(front)
        assert [line.split(".")[0] for line in key if not line.startswith(" ")] == [
            str(i) for i in range(1, len(front) + 1)]


def test_the_codecs_figure_is_drawn_for_print_too():
    from study.figures.codecs import plot_codecs

    table = pd.read_csv(REPO / "results/full/tables/table-codecs.csv").rename(columns={
        "configuration": "label", "B/vector (all tiers)": "stored_bytes_per_vector", "CR (all tiers)": "stored_ratio",
        "change (%)": "change_pct", "CI low (%)": "ci_low", "CI high (%)": "ci_high"})
    table["format"] = table.label.str.split(" ").str[0]
    table["rescore"] = ["first" if "→" in label else "none" for label in table.label]
    table["reducer"] = ["pca" if " + " in label else "none" for label in table.label]
    fig = plot_codecs(table, "texts")
    fig.canvas.draw()
    assert fig.get_size_inches()[0] == pytest.approx(plots.TEXT_WIDTH_IN)
    assert min(t.get_fontsize() for t in texts_of(fig)) >= 7.0
    used = {mcolors.to_hex(c) for ax in fig.axes for coll in ax.collections for c in coll.get_facecolors()
            if c[3] > 0}
    assert used <= {mcolors.to_hex(c) for c in plots.OKABE_ITO} | {"#ffffff"}
    import matplotlib.pyplot as plt

    plt.close(fig)


def test_the_storage_figure_is_drawn_for_print_without_overlaps():
    configs = pd.read_csv(CONFIGS)
    budgets = {"edge device": 64 * 2**20, "phone": 512 * 2**20, "laptop": 4 * 2**30, "server": 16 * 2**30}
    fig = fig_tradeoff.plot_storage(configs, [125_000, 10_000_000], budgets)
    fig.canvas.draw()
    assert fig.get_size_inches()[0] == pytest.approx(plots.TEXT_WIDTH_IN)
    assert min(t.get_fontsize() for t in texts_of(fig)) >= 7.0
    assert overlapping(fig, panel_texts(fig)) == []
    import matplotlib.pyplot as plt

    plt.close(fig)


def test_the_reduction_figure_is_drawn_for_print_without_overlaps():
    from study.analysis import report
    from study.figures.reduction import reduction_figure

    tidy = pd.read_csv(REPO / "results/full/03-reduction.csv")
    fig = reduction_figure(report.summarise(tidy, ["reducer", "fraction", "format"]), "texts", "mlquestions")
    fig.canvas.draw()
    assert fig.get_size_inches()[0] == pytest.approx(plots.TEXT_WIDTH_IN)
    assert min(t.get_fontsize() for t in texts_of(fig)) >= 7.0
    assert overlapping(fig, texts_of(fig), same_text_may_touch=True) == []
    lines = {(mcolors.to_hex(line.get_color()), line.get_linestyle()) for ax in fig.axes for line in ax.lines
             if line.get_label() and not line.get_label().startswith("_")}
    assert len(lines) == len({line.get_label() for ax in fig.axes for line in ax.lines
                              if not line.get_label().startswith("_")})  # one style per reducer
    import matplotlib.pyplot as plt

    plt.close(fig)


# --- stages 06 and 07: the frames their notebooks pass, from the committed full profile's saved results ------------

FULL = REPO / "results/full"


def printed_texts(fig) -> list:
    """``texts_of`` without the tick labels outside their axis' limits (matplotlib keeps them, undrawn)."""
    undrawn = set()
    for axis in (a for ax in fig.axes for a in (ax.xaxis, ax.yaxis)):
        low, high = sorted(axis.get_view_interval())
        pairs = [*zip(axis.get_majorticklocs(), axis.get_majorticklabels(), strict=False),
                 *zip(axis.get_minorticklocs(), axis.get_minorticklabels(), strict=False)]
        undrawn |= {id(label) for loc, label in pairs if not low <= loc <= high}
    return [t for t in texts_of(fig) if id(t) not in undrawn]


def assert_drawn_for_print(fig, change_axes: list) -> None:
    """At the text width, every text ≥ 7 pt, inside the figure and clear of every other text; the legends above the
    panels, clear of them; Okabe-Ito colours only (white: open markers), at most eight per panel; every change axis
    on a symmetric log scale (losses under 5 % stay apart)."""
    fig.canvas.draw()
    assert fig.get_size_inches()[0] == pytest.approx(plots.TEXT_WIDTH_IN)
    texts = printed_texts(fig)
    assert min(t.get_fontsize() for t in texts) >= 7.0
    renderer, page = fig.canvas.get_renderer(), fig.bbox
    outside = [t.get_text() for t in texts if t.get_text().strip() and not (
        page.x0 - 1 <= t.get_window_extent(renderer).x0 and t.get_window_extent(renderer).x1 <= page.x1 + 1
        and page.y0 - 1 <= t.get_window_extent(renderer).y0 and t.get_window_extent(renderer).y1 <= page.y1 + 1)]
    assert outside == []  # nothing cut off: the saved figure keeps its printed size
    assert overlapping(fig, texts) == []
    panels = [ax.get_window_extent(renderer) for ax in fig.axes]
    assert fig.legends and not [lg for lg in fig.legends for box in panels
                                if lg.get_window_extent(renderer).overlaps(box)]
    palette = {mcolors.to_hex(c) for c in plots.OKABE_ITO}
    for ax in fig.axes:
        used = {mcolors.to_hex(c) for coll in ax.collections for c in [*coll.get_facecolors(), *coll.get_edgecolors()]
                if c[3] > 0} | {mcolors.to_hex(line.get_color()) for line in ax.lines}
        assert used - {"#ffffff"} <= palette and len(used - {"#ffffff"}) <= 8
    assert change_axes and all(axis.get_scale() == "symlog" for axis in change_axes)


@pytest.fixture(scope="module")
def beyond_main():
    """Notebook 06's ``main``: the stage's summary (``summarise_beyond``, the profile's resamples and seed) in the
    profile's weighting, from the committed tidy results and per-query scores."""
    from study.analysis import report
    from study.config import workflow_config
    from study.stages.beyond import STEM, summarise_beyond

    p = workflow_config("full")["beyond"]
    tidy = pd.read_csv(report.tidy_path(FULL, STEM))
    per_query = pd.read_parquet(FULL / f"{STEM}-per-query.parquet")
    summary = summarise_beyond(tidy, per_query, p["n_resamples"], p["seed"])
    return summary[summary.weighting == p["weighting"]], p


def test_the_beyond_formats_figure_is_drawn_for_print(beyond_main):
    from study.figures.beyond import plot_beyond_formats

    main, p = beyond_main
    fig = plot_beyond_formats(main, p["formats"], p["weighting"])
    assert_drawn_for_print(fig, [ax.xaxis for ax in fig.axes])
    assert len(fig.axes) == main.model.nunique()  # one panel per model
    import matplotlib.pyplot as plt

    plt.close(fig)


def test_the_rescoring_figure_is_drawn_for_print(beyond_main):
    from study.figures.beyond import plot_beyond_rescoring

    main, p = beyond_main
    fig = plot_beyond_rescoring(main, p["weighting"])
    assert_drawn_for_print(fig, [ax.yaxis for ax in fig.axes])
    for ax in fig.axes:  # one curve per first stage, at most eight
        curves = [line for line in ax.lines if not line.get_label().startswith("_")]
        assert 0 < len(curves) <= 8 and len({mcolors.to_hex(line.get_color()) for line in curves}) == len(curves)
    import matplotlib.pyplot as plt

    plt.close(fig)


def test_the_indexes_figure_is_drawn_for_print():
    from study.analysis import report
    from study.figures.indexes import plot_indexes
    from study.plans.indexes import STEM
    from study.stages.indexes import largest_collection_rows

    largest = largest_collection_rows(pd.read_csv(report.tidy_path(FULL, STEM)))
    fig = plot_indexes(largest)
    change = [ax.yaxis for ax in fig.axes if ax.get_yscale() != "log"]
    assert_drawn_for_print(fig, change)
    assert len(change) == 2 * largest.model.nunique()  # recall and nDCG per model
    styles = {(mcolors.to_hex(c.get_edgecolor()[0]), not any(f[3] > 0 for f in c.get_facecolor())) for ax in fig.axes
              for c in ax.collections}
    assert len(styles) == largest.format.nunique()  # each format its own colour and fill
    import matplotlib.pyplot as plt

    plt.close(fig)


def test_every_index_format_has_one_of_eight_colours_and_its_own_fill():
    from study.figures.indexes import FAMILIES, FAMILY_COLOURS
    from study.search.indexes import FAISS_FORMATS, USEARCH_FORMATS

    assert set(FAMILIES) == set(USEARCH_FORMATS) | set(FAISS_FORMATS)
    assert set(FAMILY_COLOURS) == {fam for fam, _ in FAMILIES.values()} and len(FAMILY_COLOURS) <= 8
    assert set(FAMILY_COLOURS.values()) <= set(plots.OKABE_ITO)
    assert len(set(FAMILIES.values())) == len(FAMILIES)  # no two formats drawn alike


def test_a_saved_figure_is_shown_in_a_notebook_at_modest_resolution(tmp_path):
    """The PNG a notebook embeds is the saved one shrunk to ``NOTEBOOK_DPI`` and at most ``NOTEBOOK_MAX_PX`` wide,
    so a committed executed notebook stays small."""
    import io

    import matplotlib.pyplot as plt
    from PIL import Image

    for width_in in (plots.TEXT_WIDTH_IN, 19.0):
        fig, ax = plt.subplots(figsize=(width_in, 2))
        ax.plot([0, 1], [0, 1])
        paths = plots.save_figure(fig, tmp_path / f"w{width_in}")
        saved = Image.open(paths["png"]).width
        shown = Image.open(io.BytesIO(plots.show_saved(paths).data)).width
        expected = min(round(saved * plots.NOTEBOOK_DPI / plots.SAVED_DPI), plots.NOTEBOOK_MAX_PX)
        assert abs(shown - expected) <= 1 and shown < saved
