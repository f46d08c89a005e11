#!/usr/bin/env bash
# Mutation testing of one core module with mutmut (>= 3), niced, then its kill rate.
#
#   scripts/mutation.sh MODULE [JOBS]     e.g.  scripts/mutation.sh runner
#                                               scripts/mutation.sh strategies/evolution
#                                               scripts/mutation.sh space 2
#
# MODULE is a package (space, table, benchmark, runner, strategies, report, surrogate) or one file of it
# (strategies/evolution). JOBS: parallel mutants (default 1; the machine is shared). Configuration: [tool.mutmut]
# in pyproject.toml. Mutants and their results live in ./mutants/ (git-ignored) and are reused by the next run,
# so a second module, or a rerun after adding tests, only runs what changed. Not part of CI.
# MUTATION_NICE (default 15) is the niceness of the run, for sharing the machine with other long jobs.
# Survivors: `mutmut show NAME` prints the diff of one; `mutmut browse` is an interactive view.
set -euo pipefail
cd "$(dirname "$0")/.."

usage="usage: scripts/mutation.sh MODULE [JOBS], MODULE one of space, table, benchmark, runner, strategies, report, surrogate, or a file of one such as strategies/evolution"
module="${1:?$usage}"
jobs="${2:-1}"
module="${module%.py}"
module="${module#nasbench_suite/}"
module="${module%/}"
case "${module%%/*}" in
    space|table|benchmark|runner|strategies|report|surrogate) ;;
    *) echo "error: $module is not a core module; $usage" >&2; exit 2 ;;
esac
[[ -e "nasbench_suite/$module" || -e "nasbench_suite/$module.py" ]] || { echo "error: no nasbench_suite/$module(.py); $usage" >&2; exit 2; }
[[ "$jobs" =~ ^[1-9][0-9]*$ ]] || { echo "error: JOBS must be a positive whole number, got $jobs; $usage" >&2; exit 2; }
command -v mutmut >/dev/null || { echo "error: mutmut is not installed; pip install 'nasbench-suite[mutation]'" >&2; exit 2; }

unset PYTHONPATH  # the tests must import the mutated copy in ./mutants, never this tree
pattern="nasbench_suite.${module//\//.}.*"
start=$(date +%s)
# in its own process group, so that pool workers orphaned by a mutant that hangs are ended with it
setsid nice -n "${MUTATION_NICE:-15}" mutmut run --max-children "$jobs" "$pattern" &
group=$!
trap 'kill -- "-$group" 2>/dev/null || true' EXIT
wait "$group"
minutes=$(( ($(date +%s) - start + 59) / 60 ))

# kill rate: killed (incl. timeouts) over mutants with tests; 'no tests' mutants are code no test runs
mutmut results --all true | python3 -c '
import collections, sys
prefix, minutes = sys.argv[1], sys.argv[2]
counts = collections.Counter()
survivors = []
for line in sys.stdin:
    name, _, status = line.strip().rpartition(": ")
    if not name.startswith(prefix):
        continue
    counts[status] += 1
    if status not in ("killed", "timeout"):
        survivors.append(f"  {status:10s} {name}")
tested = sum(counts.values()) - counts["no tests"] - counts["skipped"]
killed = counts["killed"] + counts["timeout"]
print("\n".join(sorted(survivors)))
print(f"{prefix}*: {killed}/{tested} mutants killed ({100 * killed / max(tested, 1):.1f}%), "
      + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) + f"; {minutes} min")
' "${pattern%\*}" "$minutes"
