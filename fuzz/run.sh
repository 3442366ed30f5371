#!/usr/bin/env bash
# Runs every fuzz target of ./fuzz/ under the fuzzing engine for DURATION
# each, in turn, and stops at the first target that fails.
#
#   fuzz/run.sh [DURATION]     DURATION as go test -fuzztime takes it (default 15s)
#
# FUZZ_PARALLEL sets the number of fuzzing workers per target (default 1:
# CI machines are small and shared). A failing input is written by the Go
# tool to fuzz/testdata/fuzz/<Target>/; fuzz/README.md says what to do next.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"

duration=${1:-15s}
parallel=${FUZZ_PARALLEL:-1}

targets=$(go test -list '^Fuzz' ./fuzz/ | grep '^Fuzz' || true)
if [ -z "$targets" ]; then
	echo "fuzz/run.sh: no fuzz targets found in ./fuzz/" >&2
	exit 1
fi

n=0
for target in $targets; do
	printf '\n=== fuzz %s for %s (-parallel=%s)\n' "$target" "$duration" "$parallel"
	if ! go test -run='^$' -fuzz="^${target}\$" -fuzztime="$duration" -parallel="$parallel" ./fuzz/; then
		printf '\nFAIL: %s found a failing input (written to fuzz/testdata/fuzz/%s/); see fuzz/README.md\n' "$target" "$target" >&2
		exit 1
	fi
	n=$((n + 1))
done
printf '\nran %d fuzz targets for %s each: %s\n' "$n" "$duration" "$(echo $targets)"
