#!/usr/bin/env bash
# Status of a job started by submit.sh: prints running, success or failed (what Snakemake's generic
# cluster executor expects). A job that vanished without writing its exit status (e.g. killed) failed.
set -uo pipefail
id="$1"
rcfile=".snakemake/local-cluster/job-$id.rc"
if [[ -f "$rcfile" ]]; then
    [[ "$(cat "$rcfile")" == "0" ]] && echo success || echo failed
elif kill -0 "$id" 2>/dev/null; then
    echo running
else
    echo failed
fi
