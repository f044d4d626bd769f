/**
 * The operator's logger (structured JSON, one logger) and its Prometheus metrics, named as
 * controller-runtime names them so existing dashboards keep working.
 */
import { pino, type Logger } from 'pino';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type { Logger };

export function createLogger(level = 'info', destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      base: undefined,
      messageKey: 'msg',
      timestamp: () => `,"ts":"${new Date().toISOString()}"`,
      formatters: { level: (label) => ({ level: label }) },
      // Secrets never reach a log line: drop the values of anything that looks like one.
      redact: { paths: ['*.data', '*.stringData', '*.token', '*.password', 'secret.*'], censor: '[redacted]' },
    },
    destination as pino.DestinationStream | undefined,
  );
}

export class RuntimeMetrics {
  readonly registry = new Registry();
  readonly reconcileTotal = new Counter({
    name: 'controller_runtime_reconcile_total',
    help: 'Reconciles per controller and result.',
    labelNames: ['controller', 'result'],
    registers: [this.registry],
  });
  readonly reconcileErrors = new Counter({
    name: 'controller_runtime_reconcile_errors_total',
    help: 'Reconciles that returned an error, per controller.',
    labelNames: ['controller'],
    registers: [this.registry],
  });
  readonly reconcileTime = new Histogram({
    name: 'controller_runtime_reconcile_time_seconds',
    help: 'Time per reconcile, per controller.',
    labelNames: ['controller'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly restRequests = new Counter({
    name: 'rest_client_requests_total',
    help: 'Requests to the Kubernetes API, by method and code.',
    labelNames: ['method', 'code'],
    registers: [this.registry],
  });
  readonly leader = new Gauge({
    name: 'leader_election_master_status',
    help: '1 while this replica leads.',
    labelNames: ['name'],
    registers: [this.registry],
  });
  readonly workqueueDepth = new Gauge({ name: 'workqueue_depth', help: 'Keys waiting, per queue.', labelNames: ['name'], registers: [this.registry] });
  readonly workqueueAdds = new Counter({ name: 'workqueue_adds_total', help: 'Keys added, per queue.', labelNames: ['name'], registers: [this.registry] });
  readonly workqueueRetries = new Counter({ name: 'workqueue_retries_total', help: 'Rate-limited re-adds, per queue.', labelNames: ['name'], registers: [this.registry] });
  readonly workqueueLatency = new Histogram({
    name: 'workqueue_queue_duration_seconds',
    help: 'Time a key waits in the queue.',
    labelNames: ['name'],
    buckets: [0.001, 0.01, 0.1, 1, 10, 60],
    registers: [this.registry],
  });
  readonly workDuration = new Histogram({
    name: 'workqueue_work_duration_seconds',
    help: 'Time to process a key.',
    labelNames: ['name'],
    buckets: [0.001, 0.01, 0.1, 1, 10, 60],
    registers: [this.registry],
  });

  /** Upstream's gauges: how many objects of each kind are in each state. */
  readonly nimServiceStatus = new Gauge({ name: 'nimService_status_total', help: 'NIMServices per state.', labelNames: ['status'], registers: [this.registry] });
  readonly nimCacheStatus = new Gauge({ name: 'nimCache_status_total', help: 'NIMCaches per state.', labelNames: ['status'], registers: [this.registry] });
  readonly nimPipelineStatus = new Gauge({ name: 'nimPipeline_status_total', help: 'NIMPipelines per state.', labelNames: ['status'], registers: [this.registry] });

  constructor(defaults = true) {
    if (defaults) collectDefaultMetrics({ register: this.registry });
  }
}
