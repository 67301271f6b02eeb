import { collectDefaultMetrics, Registry } from 'prom-client';

import { LatencyHistogram, type LatencySeries } from './latency-histogram.js';

/** Prometheus metrics of the HTTP layer; other modules may register theirs on `registry`. */
export interface HttpMetrics {
  readonly registry: Registry;
  /** Records one request's latency; label series are cached, as this runs on every request. */
  observeRequest(labels: { method: string; route: string; statusCode: number }, seconds: number): void;
}

export function createHttpMetrics(): HttpMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'aether_' });
  const requestDuration = new LatencyHistogram<'method' | 'route' | 'status_code'>({
    name: 'aether_http_request_duration_seconds',
    help: 'HTTP request latency by route pattern',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  });
  registry.registerMetric(requestDuration.asMetric());
  const series = new Map<string, LatencySeries>();
  return {
    registry,
    observeRequest({ method, route, statusCode }, seconds) {
      const key = `${method} ${route} ${String(statusCode)}`;
      let found = series.get(key);
      if (!found) {
        found = requestDuration.series({ method, route, status_code: String(statusCode) });
        series.set(key, found);
      }
      found.observe(seconds);
    },
  };
}
