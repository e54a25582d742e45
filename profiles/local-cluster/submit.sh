#!/usr/bin/env bash
# "Submit" a Snakemake job script to a pretend cluster: run it in the background on this machine and
# print a job id (the background shell's pid), as sbatch/qsub would. Its output goes to
# .snakemake/local-cluster/job-<id>.log and its exit status to job-<id>.rc (read by status.sh).
# Used by tests/test_cluster.py to show jobs really go through a non-local executor.
set -euo pipefail
jobscript="$1"
logdir=".snakemake/local-cluster"
mkdir -p "$logdir"
(
    id=$BASHPID  # this background shell's pid, the $! printed below
    rc=0
    bash "$jobscript" > "$logdir/job-$id.log" 2>&1 || rc=$?
    echo "$rc" > "$logdir/job-$id.rc.tmp" && mv "$logdir/job-$id.rc.tmp" "$logdir/job-$id.rc"
) < /dev/null > /dev/null 2>&1 &
echo "$!"
