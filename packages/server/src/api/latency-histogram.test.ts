import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';

import { LatencyHistogram } from './latency-histogram.js';

const BUCKETS = [0.001, 0.01, 0.1, 1];
const OBSERVATIONS = [
  [{ method: 'GET', route: '/v1/tenants/:tenantId', status_code: '200' }, 0.004],
  [{ method: 'GET', route: '/v1/tenants/:tenantId', status_code: '200' }, 0.01],
  [{ method: 'GET', route: '/v1/tenants/:tenantId', status_code: '200' }, 30],
  [{ method: 'POST', route: 'unmatched', status_code: '404' }, 0.0001],
] as const;

describe('LatencyHistogram', () => {
  it('renders /metrics exactly as prom-client\'s Histogram does for the same observations', async () => {
    const theirs = new Registry();
    const reference = new Histogram({ name: 'h_seconds', help: 'latency', labelNames: ['method', 'route', 'status_code'], buckets: BUCKETS, registers: [theirs] });
    const ours = new Registry();
    const histogram = new LatencyHistogram<'method' | 'route' | 'status_code'>({ name: 'h_seconds', help: 'latency', buckets: BUCKETS });
    ours.registerMetric(histogram.asMetric());
    for (const [labels, seconds] of OBSERVATIONS) {
      reference.labels(labels).observe(seconds);
      histogram.series(labels).observe(seconds);
    }
    expect(await ours.metrics()).toBe(await theirs.metrics());
  });

  it('hands out one series per label set, whatever the key order, and reset zeroes it', async () => {
    const histogram = new LatencyHistogram<'a' | 'b'>({ name: 'h', help: 'h', buckets: BUCKETS });
    const series = histogram.series({ a: '1', b: '2' });
    expect(histogram.series({ b: '2', a: '1' })).toBe(series);
    series.observe(0.5);
    histogram.reset();
    const { values } = await histogram.get();
    expect(values.every((value) => value.value === 0)).toBe(true);
  });
});
