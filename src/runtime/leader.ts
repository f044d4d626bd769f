/**
 * Leader election for the manager: a LeaderElector (leader-election.ts) over our API client, so the
 * Lease is read and written with the operator's own credentials.
 */
import type { Client, ResourceRef } from './client/client.js';
import { isNotFound, type Json } from './client/rest.js';
import { LeaderElector, type Lease, type LeaseStore } from './leader-election.js';
import type { Logger } from './observability.js';

const LEASE: ResourceRef = { group: 'coordination.k8s.io', version: 'v1', plural: 'leases', kind: 'Lease', namespaced: true };

/** Lease access through the operator's client. */
export class ClientLeaseStore implements LeaseStore {
  constructor(private readonly client: Client) {}

  async get(namespace: string, name: string, signal?: AbortSignal): Promise<Lease | undefined> {
    try {
      return await this.client.rest.request<Lease>({ method: 'GET', path: `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases/${name}`, ...(signal ? { signal } : {}) });
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  create(lease: Lease, signal?: AbortSignal): Promise<Lease> {
    return this.client.rest.request<Lease>({
      method: 'POST',
      path: `/apis/coordination.k8s.io/v1/namespaces/${lease.metadata.namespace}/leases`,
      body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', ...lease },
      ...(signal ? { signal } : {}),
    });
  }

  update(lease: Lease, signal?: AbortSignal): Promise<Lease> {
    return this.client.rest.request<Lease>({
      method: 'PUT',
      path: `/apis/coordination.k8s.io/v1/namespaces/${lease.metadata.namespace}/leases/${lease.metadata.name}`,
      body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', ...lease } as Json,
      ...(signal ? { signal } : {}),
    });
  }
}

export interface LeaderElectionConfig {
  namespace: string;
  /** Lease name; upstream's operator uses a0715c6e.nvidia.com. */
  name?: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  logger?: Logger;
}

/** The manager's view of an election: start (returns at once) and stop (releases the lease). */
export function leaderElection(client: Client, cfg: LeaderElectionConfig) {
  let elector: LeaderElector | undefined;
  let running: Promise<unknown> | undefined;
  return {
    ref: LEASE,
    async start(onLead: () => void, onLost: () => void): Promise<void> {
      elector = new LeaderElector({
        store: new ClientLeaseStore(client),
        namespace: cfg.namespace,
        name: cfg.name ?? 'a0715c6e.nvidia.com',
        ...(cfg.leaseDurationMs ? { leaseDurationMs: cfg.leaseDurationMs } : {}),
        ...(cfg.renewDeadlineMs ? { renewDeadlineMs: cfg.renewDeadlineMs } : {}),
        ...(cfg.retryPeriodMs ? { retryPeriodMs: cfg.retryPeriodMs } : {}),
        callbacks: { onStartedLeading: () => onLead() },
        ...(cfg.logger ? { logger: cfg.logger } : {}),
      });
      running = elector.run().then((outcome) => {
        if (outcome === 'lost') onLost();
      });
    },
    async stop(): Promise<void> {
      await elector?.stop({ release: true });
      await running;
    },
    async abandon(): Promise<void> {
      await elector?.stop({ release: false });
      await running;
    },
    isLeader: () => elector?.isLeader() ?? false,
  };
}
