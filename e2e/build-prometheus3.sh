#!/usr/bin/env bash
# Builds the Prometheus 3 server that TestPrometheus3EndToEnd runs, from the
# Go module proxy, into the cache where the test looks for it, or reuses the
# binary built there before. Prints the binary's path on stdout.
#
#   e2e/build-prometheus3.sh
#
# Cost: with cold module and build caches on 2 cores, about 7 minutes
# (6m52s measured on the project's 2-core machine, under load) and a 147 MB
# binary; with the binary cached, a fraction of a second. CI keeps
# $HOME/.cache/deploymetrics between runs to pay the build once.
#
# The cached binary is reused only if `go version -m` says it was built from
# the module version below; anything else there is rebuilt. The binary is
# built in a temporary directory and moved into place, so an interrupted
# build leaves no half-written binary for the test to find. The test skips,
# saying how to run this script, when the binary is absent;
# PROMETHEUS3_BINARY points the test at another Prometheus 3 binary.
set -euo pipefail
export PATH="/usr/local/go/bin:$PATH"

module=github.com/prometheus/prometheus
version=v0.316.0
dir="$HOME/.cache/deploymetrics/prometheus-$version"
bin="$dir/prometheus"

if [[ -x $bin ]]; then
	# Read whole, not piped into grep -q: with pipefail, grep exiting early
	# could fail the pipeline and force a needless 7-minute rebuild.
	info=$(go version -m "$bin" 2>/dev/null || true)
	if [[ $info == *$'\tmod\t'"$module"$'\t'"$version"$'\t'* ]]; then
		echo "$bin"
		exit 0
	fi
	printf '%s is not %s@%s: rebuilding\n' "$bin" "$module" "$version" >&2
fi

mkdir -p "$dir"
tmp=$(mktemp -d "$dir/build.XXXXXX") # in $dir, so the final mv is a rename
trap 'rm -rf "$tmp"' EXIT
started=$(date +%s)
printf 'building %s/cmd/prometheus@%s (about 7 minutes on 2 cores with cold caches)\n' "$module" "$version" >&2
GOBIN="$tmp" go install "$module/cmd/prometheus@$version"
mv -f "$tmp/prometheus" "$bin"
printf 'built %s in %ss\n' "$bin" "$(($(date +%s) - started))" >&2
echo "$bin"
