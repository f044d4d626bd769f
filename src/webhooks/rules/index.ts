/**
 * Admission rules for NIMCache and NIMService: upstream's webhook rules plus our sharp-edge rules,
 * as one pure function shared by `nimop validate` and the admission webhook.
 */
import type { NIMCache, NIMService } from '../../api/v1alpha1/kinds.js';
import type { FieldError } from '../../api/validation/index.js';
import { nimCacheRules } from './nimcache.js';
import { DEPRECATED_INGRESS_WARNING, nimServiceRules, type ServiceFacts } from './nimservice.js';
import { asError, asWarning, cacheSharpEdges, serviceSharpEdges, type Finding, type NodeLike, type SharpEdgeFacts } from './sharp-edges.js';
import { isObject } from './util.js';

export type { NodeLike, Finding };

export interface AdmissionFacts extends ServiceFacts, SharpEdgeFacts {}

export interface AdmissionOptions {
  /** The stored object, on update. */
  old?: Record<string, unknown>;
  /** What the cluster knows: nodes, the namespace's NIMCaches, the server version, KServe's mode. */
  facts?: AdmissionFacts;
  /** Strict policy: sharp edges are refused instead of warned about. */
  strict?: boolean;
}

export interface AdmissionResult {
  errors: FieldError[];
  warnings: string[];
}

/** Runs the rules of the object's kind; other kinds pass with nothing to say. */
export function admissionCheck(obj: Record<string, unknown>, opts: AdmissionOptions = {}): AdmissionResult {
  const facts = opts.facts ?? {};
  const old = opts.old && isObject(opts.old.spec) ? opts.old : undefined;
  let errors: FieldError[] = [];
  let warnings: string[] = [];
  let findings: Finding[] = [];
  if (!isObject(obj.spec)) return { errors, warnings };
  if (obj.kind === 'NIMCache') {
    const cache = obj as unknown as NIMCache;
    errors = nimCacheRules(cache, old as unknown as NIMCache | undefined);
    findings = cacheSharpEdges(cache);
  } else if (obj.kind === 'NIMService') {
    const svc = obj as unknown as NIMService;
    ({ errors, warnings } = nimServiceRules(svc, old as unknown as NIMService | undefined, facts));
    findings = serviceSharpEdges(svc, facts);
    // The sharp-edge message about the legacy ingress starts with upstream's warning and adds the rewrite.
    if (findings.some((f) => f.rule === 'deprecated-ingress')) warnings = warnings.filter((w) => w !== DEPRECATED_INGRESS_WARNING);
  }
  if (opts.strict) errors.push(...findings.map(asError));
  else warnings.push(...findings.map(asWarning));
  return { errors, warnings };
}
