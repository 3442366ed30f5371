#!/bin/sh
# Re-captures the real-world corpus: every Debian exporter and client
# library of gen/ is run on loopback, scraped with the Accept headers of
# Prometheus 3, and written here with manifest.json (the version of each).
#
# Needs Debian's packages (apt-get install prometheus prometheus-node-exporter
# prometheus-alertmanager prometheus-pushgateway prometheus-blackbox-exporter
# prometheus-postgres-exporter prometheus-mysqld-exporter
# prometheus-redis-exporter prometheus-haproxy-exporter
# prometheus-snmp-exporter prometheus-process-exporter
# python3-prometheus-client) and the Go module proxy (gen/ is a module of
# its own, so its dependencies stay out of the project's go.mod).
#
#   ./refresh.sh                      every source
#   ./refresh.sh -only python,pushgateway
#
# Then review: re-run the engine and rewrite the expected findings with
#   go test ./conformance/check -run Corpus -update
# read `git diff` of every expected.txt, and write a `why` line (citing the
# spec) for every new error or warning: the corpus test fails until each
# has one.
set -eu
cd "$(dirname "$0")/gen"
exec go run . -out .. "$@"
