// Prometheus metrics. Each running service owns one registry (integration tests run several services in
// one process, so nothing registers on prom-client's global registry); the libraries a service builds
// (HTTP app, event bus, store) add their series to the registry they are handed.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export { Counter, Gauge, Histogram, Registry };

/** Latency buckets in seconds, 1 ms to 10 s: routing decisions and store commands sit at the low end. */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** A registry labelled with the service's name, with Node's process metrics (CPU, memory, event loop lag, GC). */
export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  // GC pauses on the latency scale (prom-client's default jumps from 10 to 100 ms): a pause of 20-50 ms is
  // what shows in a p99 of tens of milliseconds.
  collectDefaultMetrics({ register: registry, gcDurationBuckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1] });
  return registry;
}

/**
 * The registry's metric of that name, made on first use: two clients built on one registry (two buses,
 * say) then share series instead of failing on a duplicate registration.
 */
export function metricOnce<M>(registry: Registry, name: string, make: (registers: Registry[]) => M): M {
  return (registry.getSingleMetric(name) as M | undefined) ?? make([registry]);
}
