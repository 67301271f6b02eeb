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
  // Route → method → status → series. Nested maps of labels the request already has, rather
  // than one map keyed by a joined string, which would build and hash a new string per request.
  const series = new Map<string, Map<string, Map<number, LatencySeries>>>();
  const seriesOf = (method: string, route: string, statusCode: number): LatencySeries => {
    let byMethod = series.get(route);
    if (!byMethod) {
      byMethod = new Map<string, Map<number, LatencySeries>>();
      series.set(route, byMethod);
    }
    let byStatus = byMethod.get(method);
    if (!byStatus) {
      byStatus = new Map<number, LatencySeries>();
      byMethod.set(method, byStatus);
    }
    let found = byStatus.get(statusCode);
    if (!found) {
      found = requestDuration.series({ method, route, status_code: String(statusCode) });
      byStatus.set(statusCode, found);
    }
    return found;
  };
  return {
    registry,
    observeRequest({ method, route, statusCode }, seconds) {
      seriesOf(method, route, statusCode).observe(seconds);
    },
  };
}
