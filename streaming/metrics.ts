import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** The Prometheus metrics of the real-time path (one registry per process). */
export class StreamMetrics {
  readonly registry = new Registry();
  readonly messagesIn = new Counter({
    name: 'dealfinder_stream_messages_in_total',
    help: 'Messages consumed per stage.',
    labelNames: ['stage'],
    registers: [this.registry],
  });
  readonly messagesOut = new Counter({
    name: 'dealfinder_stream_messages_out_total',
    help: 'Messages produced per stage and topic (committed).',
    labelNames: ['stage', 'topic'],
    registers: [this.registry],
  });
  readonly deadLetters = new Counter({
    name: 'dealfinder_stream_dead_letters_total',
    help: 'Messages sent to a dead-letter topic, by stage and reason code.',
    labelNames: ['stage', 'code'],
    registers: [this.registry],
  });
  readonly duplicates = new Counter({
    name: 'dealfinder_stream_duplicates_total',
    help: 'Deals dropped by the 24-hour dedupe window.',
    labelNames: ['stage'],
    registers: [this.registry],
  });
  readonly skipped = new Counter({
    name: 'dealfinder_stream_skipped_total',
    help: 'Deals a stage let through without acting, by reason (evaluate: stale = first seen too long after publication).',
    labelNames: ['stage', 'reason'],
    registers: [this.registry],
  });
  readonly retries = new Counter({
    name: 'dealfinder_stream_retries_total',
    help: 'Retries of transient failures.',
    labelNames: ['stage'],
    registers: [this.registry],
  });
  readonly notifications = new Counter({
    name: 'dealfinder_stream_notifications_total',
    help: 'Notification outcomes by channel and status (delivered, already_delivered, failed).',
    labelNames: ['channel', 'status'],
    registers: [this.registry],
  });
  readonly scanned = new Counter({
    name: 'dealfinder_stream_scanner_entries_total',
    help: 'Feed entries by outcome (published, already_published).',
    labelNames: ['feed', 'outcome'],
    registers: [this.registry],
  });
  readonly feedErrors = new Counter({
    name: 'dealfinder_stream_scanner_feed_errors_total',
    help: 'Feed fetch/parse failures.',
    labelNames: ['feed'],
    registers: [this.registry],
  });
  readonly lag = new Gauge({
    name: 'dealfinder_stream_consumer_lag',
    help: 'Messages between the last processed offset and the partition end, per stage and partition.',
    labelNames: ['stage', 'topic', 'partition'],
    registers: [this.registry],
  });
  readonly batchSeconds = new Histogram({
    name: 'dealfinder_stream_batch_seconds',
    help: 'Processing time of one partition batch, including the transaction commit.',
    labelNames: ['stage'],
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly commitSeconds = new Histogram({
    name: 'dealfinder_stream_commit_seconds',
    help: 'Duration of the Kafka transaction (outputs + offsets + commit) of one batch.',
    labelNames: ['stage'],
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly stageLatency = new Histogram({
    name: 'dealfinder_stream_stage_latency_seconds',
    help: 'From the input message timestamp to the commit of its outputs, per stage.',
    labelNames: ['stage'],
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly deliveryLatency = new Histogram({
    name: 'dealfinder_stream_detection_to_delivery_seconds',
    help: 'From the scanner publishing a deal to the channel accepting its notification.',
    labelNames: ['channel'],
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  /** Serves GET /metrics on 127.0.0.1:`port` (0 = a free port). */
  async serve(port: number, host = '127.0.0.1'): Promise<{ port: number; close(): Promise<void> }> {
    const server: Server = createServer((req, res) => {
      if (req.url === '/metrics') {
        this.registry
          .metrics()
          .then((body) => {
            res.writeHead(200, { 'content-type': this.registry.contentType });
            res.end(body);
          })
          .catch((error: Error) => {
            res.writeHead(500);
            res.end(error.message);
          });
      } else {
        res.writeHead(404);
        res.end('not found; try /metrics\n');
      }
    });
    await new Promise<void>((resolve) => server.listen(port, host, resolve));
    return {
      port: (server.address() as AddressInfo).port,
      close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
  }
}
