/**
 * The NIMPipeline status (inventory §2.3 step 3): `states` holds each enabled service's state,
 * `state` is `Failed` if any is Failed, `Ready` if all are Ready, `NotReady` otherwise. Beyond
 * upstream (which never sets conditions) the `Ready`/`Failed` pair says which services hold the
 * pipeline back and why, as a NIMService's does. Pure, so a settled pipeline yields an equal status.
 */
import type { Json } from '../../runtime/client/rest.js';
import { setCondition, type Condition } from '../../runtime/status.js';

export type PipelineState = 'Ready' | 'NotReady' | 'Failed';

/** What the reconcile found for one enabled entry. */
export type ServiceFinding =
  | { kind: 'owned'; state: string | undefined; message?: string }
  | { kind: 'missing' }
  /** A NIMService of that name exists and the pipeline does not control it: never touched. */
  | { kind: 'conflict' }
  /** The API server refused the NIMService the entry renders. */
  | { kind: 'rejected'; message: string };

export interface PipelineFacts {
  name: string;
  /** Enabled entries in order, with what was found for each. */
  services: { name: string; finding: ServiceFinding }[];
  /** Entries that render nothing (no name, repeated name). */
  problems: string[];
}

export interface PipelineOutcome {
  state: PipelineState;
  states: Record<string, string>;
  reason: string;
  message: string;
  /** Warrants a Warning event: someone has to act. */
  warning: boolean;
}

/** The state `states` shows for one service. */
function stateOf(f: ServiceFinding): string {
  switch (f.kind) {
    case 'owned':
      // A NIMService not reconciled yet has no state; upstream shows '' there.
      return f.state || 'NotReady';
    case 'rejected':
      return 'Failed';
    default:
      return 'NotReady';
  }
}

export function computeOutcome(facts: PipelineFacts): PipelineOutcome {
  const states: Record<string, string> = {};
  for (const s of facts.services) states[s.name] = stateOf(s.finding);
  const values = Object.values(states);
  const failed = values.includes('Failed') || facts.problems.length > 0;
  const allReady = values.every((v) => v === 'Ready');
  const state: PipelineState = failed ? 'Failed' : allReady ? 'Ready' : 'NotReady';

  const conflicts = facts.services.filter((s) => s.finding.kind === 'conflict').map((s) => s.name);
  const rejected = facts.services.filter((s) => s.finding.kind === 'rejected');
  const lines: string[] = [...facts.problems];
  for (const n of conflicts) lines.push(`NIMService ${n} already exists and is not owned by NIMPipeline ${facts.name}; delete or rename it, or rename the entry`);
  for (const r of rejected) lines.push(`NIMService ${r.name} was refused by the API server: ${(r.finding as { message: string }).message}`);
  const waiting = facts.services.filter((s) => s.finding.kind !== 'conflict' && s.finding.kind !== 'rejected' && states[s.name] !== 'Ready');
  if (waiting.length) lines.push(`waiting for ${waiting.map((s) => `${s.name} (${states[s.name]})`).join(', ')}`);

  let reason: string;
  if (facts.problems.length) reason = 'InvalidSpec';
  else if (rejected.length) reason = 'NIMServiceRejected';
  else if (conflicts.length) reason = 'NIMServiceConflict';
  else if (state === 'Failed') reason = 'NIMServiceFailed';
  else reason = state;
  const message = state === 'Ready' ? `all ${values.length} enabled services are Ready` : lines.join('; ');
  return { state, states, reason, message, warning: state === 'Failed' || conflicts.length > 0 };
}

/** The next status: state, states and the Ready/Failed conditions (transition times kept). */
export function nextPipelineStatus(current: Json | undefined, o: PipelineOutcome, generation: number | undefined): Json {
  let conditions: Condition[] = current?.conditions ?? [];
  conditions = setCondition(conditions, { type: 'Ready', status: o.state === 'Ready' ? 'True' : 'False', reason: o.reason, message: o.message }, generation);
  conditions = setCondition(
    conditions,
    o.state === 'Failed' ? { type: 'Failed', status: 'True', reason: o.reason, message: o.message } : { type: 'Failed', status: 'False', reason: 'Ready', message: '' },
    generation,
  );
  return { ...(current ?? {}), state: o.state, states: o.states, conditions };
}

/** `NIMPipeline rag status Ready, service states embed=Ready, llm=Ready` (upstream's event, in our words). */
export function eventMessage(name: string, o: PipelineOutcome): string {
  const states = Object.entries(o.states).map(([k, v]) => `${k}=${v}`).join(', ');
  const base = `NIMPipeline ${name} status ${o.state}, service states ${states || '(none)'}`;
  return o.state === 'Ready' ? base : `${base}: ${o.message}`;
}
