/**
 * Upstream's per-kind gauges (`nimService_status_total{status}` …): `all`, and the count of objects in
 * each state, the known states reported as 0 when none is in them, empty states as `Unknown`.
 * Refreshed from the informer on every change, so a scrape never lists anything.
 */
import type { Gauge } from 'prom-client';
import type { Informer } from '../runtime/informer.js';

export function trackStates(informer: Informer, gauge: Gauge<'status'>, knownStates: readonly string[]): void {
  const refresh = () => {
    const counts: Record<string, number> = { all: 0, Unknown: 0 };
    for (const s of knownStates) counts[s] = 0;
    for (const o of informer.list()) {
      counts.all!++;
      const state: string = o.status?.state || 'Unknown';
      counts[state] = (counts[state] ?? 0) + 1;
    }
    for (const [status, n] of Object.entries(counts)) gauge.set({ status }, n);
  };
  informer.on({ add: refresh, update: refresh, delete: refresh });
}
