# Each stage's figures and tables, redrawn from its saved tidy results without rerunning the experiment
# (`study publish --stages <stage>`). A rule per stage: it reads the stage's results and the code that draws
# them (figures, analysis, the stage's module), so editing a figure function reruns only its publish rule.

COMBINED_REDUCERS = COMBINED.get("reducers", ["pca", "truncation"])
PUBLISH = {
    "quantization": ("02-quantization", [],
                     figures("fig3-quantization") + tables("table-quantization", "table-quantization-vs-paper")),
    "reduction": ("03-reduction", [f"{RESULTS}/tables/table-reduction-timings.csv"],
                  figures("fig4-reduction") + tables("table-reduction")),
    "combined": ("04-combined", [],
                 figures("fig6-combined") + tables(*[f"table1-combined-{r}" for r in COMBINED_REDUCERS],
                                                   *(["table1-combined-vs-paper"] if "pca" in COMBINED_REDUCERS
                                                     else []))),
}
if BEYOND_STAGE:
    PUBLISH["beyond"] = ("06-beyond", [],
                         figures("fig-beyond-formats", *(["fig-beyond-rescoring"] if BEYOND.get("rescore_first")
                                                         else []))
                         + tables("table-beyond") + [f"{RESULTS}/06-beyond-summary.csv"])
if INDEX_STAGE:
    PUBLISH["indexes"] = ("07-indexes", [], figures("fig-indexes") + tables("table-indexes"))

if CODECS_STAGE:
    PUBLISH["codecs"] = ("09-codecs", [], figures("fig-codecs") + tables("table-codecs", "table-codecs-equal-bytes")
                         + [f"{TABLES}/codecs-section.tex", f"{RESULTS}/tables/codecs-peers.csv"])

STAGE_MODULE = {"combined": "reduction"}  # stage 04's code lives beside stage 03's (and its figure function)

for _stage, (_stem, _extra, _outputs) in PUBLISH.items():

    rule:
        name:
            f"publish_{_stage}"
        input:
            f"{RESULTS}/{_stem}.csv",
            f"{RESULTS}/{_stem}-per-query.parquet",
            _extra,
            study_code(*PUBLISH_CODE, f"stages/{STAGE_MODULE.get(_stage, _stage)}",
                       f"figures/{STAGE_MODULE.get(_stage, _stage)}"),
        output:
            _outputs,
        params:
            cmd=(f"STUDY_OUTPUT_DIR={shlex.quote(OUTPUT_ROOT)} {shlex.quote(PY)} -m study.cli publish "
                 f"--profile {PROFILE} --stages {_stage}"),
        shell:
            "{params.cmd}"


PUBLISHED = [f for _, _, outputs in PUBLISH.values() for f in outputs]
