"""A small service instrumented with Python's prometheus_client, for the
deploymetrics corpus. It serves /metrics with the library's own content
negotiation (choose_encoder: OpenMetrics when the Accept header names it,
else text 0.0.4) and /control/<action> for the generator to drive the
sequences: "reset" removes and recreates a labelled counter (its _created
moves forward), "delete" removes a series for good.

Usage: python3 python_source.py PORT RUN   (RUN counts restarts: the
values of a later run are smaller, as after a real restart)
"""
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

from prometheus_client import (CollectorRegistry, Counter, Enum, Gauge,
                               Histogram, Info, Summary, GC_COLLECTOR,
                               PLATFORM_COLLECTOR, PROCESS_COLLECTOR)
from prometheus_client.exposition import choose_encoder

port, run = int(sys.argv[1]), int(sys.argv[2])
registry = CollectorRegistry()
for collector in (GC_COLLECTOR, PLATFORM_COLLECTOR, PROCESS_COLLECTOR):
    registry.register(collector)

jobs = Counter('jobs_processed', 'Jobs processed, by queue.', ['queue'], registry=registry)
latency = Histogram('job_duration_seconds', 'Time spent on one job.', ['queue'],
                    buckets=(0.01, 0.1, 1, 10), registry=registry)
size = Summary('job_payload_bytes', 'Payload size of a job.', registry=registry)
depth = Gauge('queue_depth', 'Jobs waiting, by queue.', ['queue'], registry=registry)
build = Info('worker_build', 'Build of the worker.', registry=registry)
state = Enum('worker_state', 'State of the worker.', states=['starting', 'running', 'stopping'],
             registry=registry)

build.info({'version': '1.4.2', 'revision': 'abc123'})
state.state('running')
scale = 10 // run
for queue in ('email', 'reports', 'thumbnails'):
    jobs.labels(queue).inc(7 * scale)
    depth.labels(queue).set(3)
    for v in (0.005, 0.05, 0.5, 5):
        latency.labels(queue).observe(v * scale)
for v in (120, 4096, 65536):
    size.observe(v)


def control(action):
    global depth
    if action == 'reset':
        jobs.remove('email')
        jobs.labels('email').inc(2)
    elif action == 'delete':
        jobs.remove('thumbnails')
        latency.remove('thumbnails')
        depth.remove('thumbnails')
    elif action == 'rehelp':
        registry.unregister(depth)
        depth = Gauge('queue_depth', 'Jobs waiting to be processed, by queue.', ['queue'],
                      registry=registry)
        for queue in ('email', 'reports'):
            depth.labels(queue).set(4)
    else:
        return False
    return True


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path.startswith('/control/'):
            ok = control(self.path[len('/control/'):])
            self.send_response(200 if ok else 404)
            self.end_headers()
            return
        encoder, content_type = choose_encoder(self.headers.get('Accept'))
        body = encoder(registry)
        self.send_response(200)
        self.send_header('Content-Type', content_type)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


HTTPServer(('127.0.0.1', port), Handler).serve_forever()
