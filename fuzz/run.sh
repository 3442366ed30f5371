#!/usr/bin/env bash
# Runs every fuzz target of ./fuzz/ under the fuzzing engine for DURATION
# each, in turn, and stops at the first target that fails.
#
#   fuzz/run.sh [DURATION]     DURATION as go test -fuzztime takes it (default 15s)
#
# FUZZ_PARALLEL sets the number of fuzzing workers per target (default 1:
# CI machines are small and shared). A failing input is written by the Go
# tool to fuzz/testdata/fuzz/<Target>/; fuzz/README.md says what to do next.
#
# Go 1.26's fuzzing coordinator can fail a target at the end of -fuzztime
# with a bare "context deadline exceeded" and no failing input written: a
# race between the -fuzztime deadline and the cancellation of its workers
# (go.dev/issue/75804, fixed in Go 1.27), more likely on a loaded machine.
# A run that fails that way, having written no input, is run once more; a
# written input, any other failure, or a second such run fails.
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

log=$(mktemp)
trap 'rm -f "$log"' EXIT

# fuzz TARGET runs one target, its output shown and kept in $log.
fuzz() {
	go test -run='^$' -fuzz="^${1}\$" -fuzztime="$duration" -parallel="$parallel" ./fuzz/ 2>&1 | tee "$log"
}

# inputs TARGET lists the inputs in the target's corpus directory.
inputs() {
	ls "fuzz/testdata/fuzz/$1" 2>/dev/null | sort || true
}

# coordinatorRace tells whether the run in $log failed only with the
# coordinator's bare deadline error: that line, and no panic or test error.
coordinatorRace() {
	grep -qx $'[ \t]*context deadline exceeded' "$log" &&
		! grep -qE 'panic:|_test\.go:[0-9]+:|Failing input written' "$log"
}

n=0
for target in $targets; do
	printf '\n=== fuzz %s for %s (-parallel=%s)\n' "$target" "$duration" "$parallel"
	before=$(inputs "$target")
	if ! fuzz "$target"; then
		if [[ $(inputs "$target") == "$before" ]] && coordinatorRace; then
			printf '\n%s: "context deadline exceeded" with no failing input: the Go fuzzing coordinator race (go.dev/issue/75804); running it once more\n' "$target" >&2
			if fuzz "$target"; then
				n=$((n + 1))
				continue
			fi
		fi
		printf '\nFAIL: %s failed; a failing input it found is in fuzz/testdata/fuzz/%s/ (see fuzz/README.md)\n' "$target" "$target" >&2
		exit 1
	fi
	n=$((n + 1))
done
printf '\nran %d fuzz targets for %s each: %s\n' "$n" "$duration" "$(echo $targets)"
