/** API errors as kube-apiserver returns them: a metav1 Status with reason, details and causes. */
import { causeReason, errorBody, formatFieldError, type FieldError } from '../api/validation/index.js';

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure' | 'Success';
  message: string;
  reason: string;
  details?: { name?: string; group?: string; kind?: string; uid?: string; causes?: StatusCause[]; retryAfterSeconds?: number };
  code: number;
}

export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: Status['details'],
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  toStatus(): Status {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      ...(this.details ? { details: this.details } : {}),
      code: this.code,
    };
  }
}

/** "deployments.apps" for a group, "pods" for the core group. */
export function qualifiedResource(plural: string, group: string): string {
  return group ? `${plural}.${group}` : plural;
}

export const notFound = (plural: string, group: string, name: string) =>
  new ApiError(404, 'NotFound', `${qualifiedResource(plural, group)} "${name}" not found`, {
    name,
    ...(group ? { group } : {}),
    kind: plural,
  });

export const alreadyExists = (plural: string, group: string, name: string) =>
  new ApiError(409, 'AlreadyExists', `${qualifiedResource(plural, group)} "${name}" already exists`, {
    name,
    ...(group ? { group } : {}),
    kind: plural,
  });

export const conflict = (plural: string, group: string, name: string, why: string) =>
  new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${qualifiedResource(plural, group)} "${name}": ${why}`, {
    name,
    ...(group ? { group } : {}),
    kind: plural,
  });

export const STALE = 'the object has been modified; please apply your changes to the latest version and try again';

export const badRequest = (message: string) => new ApiError(400, 'BadRequest', message);
export const methodNotAllowed = (message: string) => new ApiError(405, 'MethodNotAllowed', message);
export const unsupportedMediaType = (contentType: string) =>
  new ApiError(
    415,
    'UnsupportedMediaType',
    `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml (got ${contentType})`,
  );
export const gone = (message: string) => new ApiError(410, 'Expired', message);
export const internal = (message: string) => new ApiError(500, 'InternalError', `Internal error occurred: ${message}`);
export const forbidden = (message: string, name = '', group = '', plural = '') =>
  new ApiError(403, 'Forbidden', message, { name, ...(group ? { group } : {}), kind: plural });

/** 422 Invalid: `<Kind> "<name>" is invalid: <field errors joined>`, with one cause per error. */
export function invalid(kind: string, group: string, name: string, errors: FieldError[]): ApiError {
  const text = errors.map(formatFieldError).join(', ');
  const list = errors.length > 1 ? `[${text}]` : text;
  return new ApiError(422, 'Invalid', `${kind}${group ? `.${group}` : ''} "${name}" is invalid: ${list}`, {
    name,
    ...(group ? { group } : {}),
    kind,
    causes: errors.map((e) => ({ reason: causeReason(e), message: errorBody(e), field: e.field })),
  });
}
