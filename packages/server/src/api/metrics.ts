import { collectDefaultMetrics, Histogram, Registry } from 'prom-client';

/** Prometheus metrics of the HTTP layer; other modules may register theirs on `registry`. */
export interface HttpMetrics {
  readonly registry: Registry;
  readonly requestDuration: Histogram<'method' | 'route' | 'status_code'>;
  /** Records one request's latency; label children are cached, as this runs on every request. */
  observeRequest(labels: { method: string; route: string; statusCode: number }, seconds: number): void;
}

export function createHttpMetrics(): HttpMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'aether_' });
  const requestDuration = new Histogram({
    name: 'aether_http_request_duration_seconds',
    help: 'HTTP request latency by route pattern',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const children = new Map<string, ReturnType<typeof requestDuration.labels>>();
  return {
    registry,
    requestDuration,
    observeRequest({ method, route, statusCode }, seconds) {
      const key = `${method} ${route} ${String(statusCode)}`;
      let child = children.get(key);
      if (!child) {
        child = requestDuration.labels({ method, route, status_code: String(statusCode) });
        children.set(key, child);
      }
      child.observe(seconds);
    },
  };
}
