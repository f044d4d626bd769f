/**
 * Kubernetes Events about our objects (core/v1 Events, as `kubectl describe` shows them), with
 * client-go's de-duplication: the same reason and message on the same object within the window
 * increments the existing Event's count instead of creating another.
 */
import { randomBytes } from 'node:crypto';
import type { Client, ResourceRef } from './client/client.js';
import { isNotFound, type Json } from './client/rest.js';

export const EVENT: ResourceRef = { group: '', version: 'v1', plural: 'events', kind: 'Event', namespaced: true };

export interface Recorded {
  name: string;
  namespace: string;
  count: number;
  firstTimestamp: string;
}

export class EventRecorder {
  private readonly seen = new Map<string, Recorded>();

  constructor(
    private readonly client: Client,
    private readonly component = 'nim-operator',
    private readonly windowMs = 10 * 60_000,
  ) {}

  /** Records an event; never throws (an event is not worth failing a reconcile for). */
  async record(obj: Json, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    const ns = obj.metadata?.namespace ?? 'default';
    const key = [obj.metadata?.uid, type, reason, message].join('\u0000');
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    const prev = this.seen.get(key);
    try {
      if (prev && Date.now() - Date.parse(prev.firstTimestamp) < this.windowMs) {
        prev.count++;
        await this.client.patch(EVENT, prev.namespace, prev.name, { count: prev.count, lastTimestamp: now }, 'merge', { fieldManager: this.component });
        return;
      }
      const name = `${obj.metadata?.name}.${Date.now().toString(16)}${randomBytes(2).toString('hex')}`;
      await this.client.create(
        EVENT,
        {
          apiVersion: 'v1',
          kind: 'Event',
          metadata: { name, namespace: ns },
          involvedObject: {
            apiVersion: obj.apiVersion,
            kind: obj.kind,
            name: obj.metadata?.name,
            namespace: obj.metadata?.namespace,
            uid: obj.metadata?.uid,
            resourceVersion: obj.metadata?.resourceVersion,
          },
          reason,
          message: message.slice(0, 1024),
          type,
          source: { component: this.component },
          reportingComponent: this.component,
          firstTimestamp: now,
          lastTimestamp: now,
          count: 1,
        },
        this.component,
      );
      this.seen.set(key, { name, namespace: ns, count: 1, firstTimestamp: now });
    } catch (e) {
      // The Event may have been garbage collected meanwhile; start a new one next time.
      if (isNotFound(e)) this.seen.delete(key);
    }
  }
}
