package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// debianExporter is a Debian package whose binary serves /metrics. Those
// whose backend (a database, HAProxy, an SNMP device) is absent still serve
// their own metrics, and a *_up 0: that is real output too.
type debianExporter struct {
	name, pkg, binary string
	// marker is a string /metrics holds once it is worth capturing.
	marker string
	// args returns the command line for a listen address and a scratch
	// directory; env is extra environment.
	args func(addr, dir string) []string
	env  []string
	// sequences, if set, captures sequences once the first scrape is done.
	sequences func(c *capturer, e *debianExporter, run *debianRun) error
	// prepare, if set, runs once the exporter is ready, before the scrapes.
	prepare func(url string) error
}

// debianRun is one running exporter.
type debianRun struct {
	proc      *process
	addr, dir string
	url       string
}

func debianSources() []source {
	var out []source
	for _, e := range debianExporters() {
		e := e
		out = append(out, source{name: e.name, origin: "Debian package " + e.pkg, capture: e.capture})
	}
	return out
}

func debianExporters() []*debianExporter {
	listen := func(addr, _ string) []string { return []string{"--web.listen-address=" + addr} }
	return []*debianExporter{
		{name: "prometheus", pkg: "prometheus", binary: "/usr/bin/prometheus",
			// Once it has scraped itself, its scrape and TSDB metrics hold samples.
			marker: `prometheus_target_interval_length_seconds_count{interval="1s"}`,
			args: func(addr, dir string) []string {
				config := filepath.Join(dir, "prometheus.yml")
				yml := fmt.Sprintf("global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: self\n    static_configs:\n      - targets: [%q]\n", addr)
				if err := os.WriteFile(config, []byte(yml), 0o600); err != nil {
					panic(err) // a scratch directory we just made
				}
				return []string{"--config.file=" + config, "--storage.tsdb.path=" + filepath.Join(dir, "tsdb"), "--web.listen-address=" + addr}
			}},
		{name: "node-exporter", pkg: "prometheus-node-exporter", binary: "/usr/bin/prometheus-node-exporter",
			marker: "node_exporter_build_info", args: listen,
			sequences: func(c *capturer, e *debianExporter, run *debianRun) error {
				return c.sequence("restart", "node_exporter killed and started again on the same address: process_start_time_seconds moves forward, its own counters (process_cpu_seconds_total, promhttp_metric_handler_requests_total) start again from zero",
					run.url, "text", func() error { return e.restart(run) })
			}},
		{name: "alertmanager", pkg: "prometheus-alertmanager", binary: "/usr/bin/prometheus-alertmanager",
			marker: "alertmanager_build_info",
			args: func(addr, dir string) []string {
				return []string{"--config.file=/etc/prometheus/alertmanager.yml", "--storage.path=" + dir, "--web.listen-address=" + addr, "--cluster.listen-address="}
			}},
		{name: "pushgateway", pkg: "prometheus-pushgateway", binary: "/usr/bin/prometheus-pushgateway",
			marker: "pushgateway_build_info",
			args: func(addr, dir string) []string {
				return []string{"--web.listen-address=" + addr, "--persistence.file="}
			},
			prepare: func(url string) error {
				base := strings.TrimSuffix(url, "/metrics")
				if err := do("PUT", base+"/metrics/job/backup/instance/db1", "text/plain; version=0.0.4",
					"# HELP backup_files_total Files backed up.\n# TYPE backup_files_total counter\nbackup_files_total 42\n# HELP backup_last_success_seconds When the last backup succeeded.\n# TYPE backup_last_success_seconds gauge\nbackup_last_success_seconds 1.7e+09\n"); err != nil {
					return err
				}
				return do("PUT", base+"/metrics/job/cleanup", "text/plain; version=0.0.4",
					"# HELP cleanup_removed_total Files removed.\n# TYPE cleanup_removed_total counter\ncleanup_removed_total 7\n")
			},
			sequences: func(c *capturer, e *debianExporter, run *debianRun) error {
				base := strings.TrimSuffix(run.url, "/metrics")
				return c.sequence("group-deleted", "the group job=backup,instance=db1 is deleted from the pushgateway (DELETE /metrics/job/backup/instance/db1): its series stop being exposed",
					run.url, "text", func() error { return do("DELETE", base+"/metrics/job/backup/instance/db1", "", "") })
			}},
		{name: "blackbox-exporter", pkg: "prometheus-blackbox-exporter", binary: "/usr/bin/prometheus-blackbox-exporter",
			marker: "blackbox_exporter_build_info",
			args: func(addr, _ string) []string {
				return []string{"--config.file=/etc/prometheus/blackbox.yml", "--web.listen-address=" + addr}
			}},
		{name: "postgres-exporter", pkg: "prometheus-postgres-exporter", binary: "/usr/bin/prometheus-postgres-exporter",
			marker: "pg_up", args: listen,
			// Port 1 refuses at once: the exporter reports pg_up 0.
			env: []string{"DATA_SOURCE_NAME=postgresql://corpus:corpus@127.0.0.1:1/postgres?sslmode=disable"}},
		{name: "mysqld-exporter", pkg: "prometheus-mysqld-exporter", binary: "/usr/bin/prometheus-mysqld-exporter",
			marker: "mysqld_exporter_build_info",
			args: func(addr, dir string) []string {
				cnf := filepath.Join(dir, "my.cnf")
				if err := os.WriteFile(cnf, []byte("[client]\nuser=corpus\npassword=corpus\nhost=127.0.0.1\nport=1\n"), 0o600); err != nil {
					panic(err)
				}
				return []string{"--web.listen-address=" + addr, "--config.my-cnf=" + cnf}
			}},
		{name: "redis-exporter", pkg: "prometheus-redis-exporter", binary: "/usr/bin/prometheus-redis-exporter",
			marker: "redis_up",
			args: func(addr, _ string) []string {
				return []string{"-web.listen-address=" + addr, "-redis.addr=redis://127.0.0.1:1"}
			}},
		{name: "haproxy-exporter", pkg: "prometheus-haproxy-exporter", binary: "/usr/bin/prometheus-haproxy-exporter",
			marker: "haproxy_up",
			args: func(addr, _ string) []string {
				return []string{"--web.listen-address=" + addr, "--haproxy.scrape-uri=http://127.0.0.1:1/;csv"}
			}},
		{name: "snmp-exporter", pkg: "prometheus-snmp-exporter", binary: "/usr/bin/prometheus-snmp-exporter",
			marker: "snmp_exporter_build_info",
			args: func(addr, _ string) []string {
				return []string{"--config.file=/etc/prometheus/snmp.yml", "--web.listen-address=" + addr}
			}},
		{name: "process-exporter", pkg: "prometheus-process-exporter", binary: "/usr/bin/prometheus-process-exporter",
			marker: "namedprocess_namegroup_num_procs",
			args: func(addr, _ string) []string {
				// The kernel cuts a command name (comm) to 15 bytes.
				return []string{"-web.listen-address=" + addr, "-procnames=prometheus-proc"}
			}},
	}
}

func (e *debianExporter) capture(c *capturer) error {
	version, err := exec.Command("dpkg-query", "-W", "-f=${Version}", e.pkg).Output()
	if err != nil {
		return fmt.Errorf("dpkg-query %s: %w (apt-get install %s)", e.pkg, err, e.pkg)
	}
	c.source.Version = string(version)
	dir, err := os.MkdirTemp("", "corpus-"+e.name)
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	run := &debianRun{addr: addr, dir: dir, url: "http://" + addr + "/metrics"}
	if err := e.start(run); err != nil {
		return err
	}
	defer func() { run.proc.stop() }()
	if e.prepare != nil {
		if err := e.prepare(run.url); err != nil {
			return err
		}
	}
	if err := c.scrapeBoth(run.url); err != nil {
		return err
	}
	if e.sequences != nil {
		return e.sequences(c, e, run)
	}
	return nil
}

func (e *debianExporter) start(run *debianRun) error {
	proc, err := start(e.binary, e.env, e.args(run.addr, run.dir)...)
	if err != nil {
		return err
	}
	run.proc = proc
	if err := proc.waitFor(run.url, e.marker); err != nil {
		proc.stop()
		return err
	}
	return nil
}

// restart kills the exporter and starts it again on the same address, a
// little later so that its start time is visibly later.
func (e *debianExporter) restart(run *debianRun) error {
	run.proc.stop()
	time.Sleep(1100 * time.Millisecond)
	return e.start(run)
}
