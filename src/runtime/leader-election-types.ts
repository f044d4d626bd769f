/** Leader election's vocabulary: options, callbacks, outcomes, and the MicroTime format (see leader-election.ts). */
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { LeaseStore } from './lease-store.js';

/** Formats epoch milliseconds (fractions allowed) as a Kubernetes MicroTime. */
export function formatMicroTime(epochMs: number): string {
  const seconds = new Date(Math.floor(epochMs / 1000) * 1000).toISOString().slice(0, 19);
  const micros = Math.floor(epochMs * 1000) % 1_000_000;
  return `${seconds}.${String(micros).padStart(6, '0')}Z`;
}

/** client-go's default identity: the host name and a random UUID. */
export function defaultIdentity(): string {
  return `${hostname()}_${randomUUID()}`;
}

/** How a `run()` ended. */
export type ElectionOutcome =
  /** Was leading and could not renew within the renew deadline, or saw another holder. Exit. */
  | 'lost'
  /** Was leading, was stopped, and emptied the Lease for a successor. */
  | 'released'
  /** Was leading and was stopped without releasing (or the release failed): the Lease expires. */
  | 'abandoned'
  /** Was stopped before it ever led. */
  | 'stopped';

/** The reason a leader's signal is aborted with when leadership is lost. */
export class LeadershipLostError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LeadershipLostError';
  }
}

export interface LeaderCallbacks {
  /** Became leader. `leading` aborts when leadership ends (with a LeadershipLostError if lost). */
  onStartedLeading?(leading: AbortSignal): void | Promise<void>;
  /** Was leading and no longer is. Not called for an elector that never led. */
  onStoppedLeading?(outcome: Exclude<ElectionOutcome, 'stopped'>): void;
  /** The holder seen on the Lease changed (our own identity included; an emptied Lease is not reported). */
  onNewLeader?(identity: string): void;
}

/** Structured logging in pino's call shape (`logger.info(fields, msg)`). */
export interface ElectionLogger {
  info(fields: Record<string, unknown>, msg: string): void;
  error(fields: Record<string, unknown>, msg: string): void;
  debug?(fields: Record<string, unknown>, msg: string): void;
}

export interface ElectionClock {
  /** Wall-clock epoch ms, for the times written to the Lease. */
  wall(): number;
  /** Monotonic ms, for judging expiry and deadlines. */
  monotonic(): number;
}

export interface LeaderElectionOptions {
  store: LeaseStore;
  namespace: string;
  name: string;
  /** Default: `<hostname>_<uuid>`. */
  identity?: string;
  /** How long others wait after the record last changed before taking over (default 15 s). */
  leaseDurationMs?: number;
  /** How long the leader keeps retrying a renewal before giving up (default 10 s). */
  renewDeadlineMs?: number;
  /** Wait between attempts (default 2 s). */
  retryPeriodMs?: number;
  /** Release the Lease when stopped while leading (default true). */
  releaseOnCancel?: boolean;
  callbacks?: LeaderCallbacks;
  logger?: ElectionLogger;
  clock?: ElectionClock;
}
