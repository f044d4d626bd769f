/**
 * What can stop a NIMCache reconcile, by what the controller should do next:
 * - `fix`: the user (or the cluster) must change something; the status says what, and the event that
 *   changes it (the spec, a PVC, a node's labels, the probe pod) wakes the cache again — no retry loop.
 * - `retry`: worth trying again by itself (a failed probe pod, an unreadable log): after
 *   `retryAfterMs` when given, else with the queue's backoff.
 * Any other error (the API server) is retried with backoff too, and also shown in the status.
 */
export class CacheProblem extends Error {
  override name = 'CacheProblem';

  constructor(
    message: string,
    readonly kind: 'fix' | 'retry',
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

export const needsFix = (message: string) => new CacheProblem(message, 'fix');
export const retryLater = (message: string, afterMs?: number) => new CacheProblem(message, 'retry', afterMs);
