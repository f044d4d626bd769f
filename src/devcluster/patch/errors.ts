/**
 * The error a patch fails with, carrying what the API server puts in the `Status` it answers
 * with: the HTTP code, the reason that goes with it, and the message.
 *
 * The messages are kube-apiserver's own, including its less helpful ones: for every failure it
 * reports as 422 (a failed JSON patch `test`, a path that does not exist, a list of lists in a
 * strategic merge patch) kube-apiserver discards the underlying error and answers with the generic
 * "the server rejected our request due to an error in our request". Clients and tests that pass
 * against this library must pass against a real API server, so the message is kept; the
 * underlying error is kept apart in `detail`, for logs only.
 */

/** kube-apiserver's message for every 422 a patch fails with. */
export const UNPROCESSABLE_MESSAGE = 'the server rejected our request due to an error in our request';

/** The Status reason kube-apiserver pairs with each code a patch can fail with. */
const REASONS: Readonly<Record<number, string>> = {
  400: 'BadRequest',
  413: 'RequestEntityTooLarge',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  // A failure inside the strategic merge code that the server does not classify reaches the
  // client as a 500 with an empty reason and the raw error as the message.
  500: '',
};

export class PatchError extends Error {
  /** The `reason` of the Status the API server answers with (empty for unclassified 500s). */
  readonly reason: string;

  constructor(
    message: string,
    /** HTTP status: 400, 413, 415, 422 or 500. */
    readonly code: number,
    /** The underlying failure when `message` is the server's generic one; never sent to clients. */
    readonly detail?: string,
  ) {
    super(message);
    this.name = 'PatchError';
    this.reason = REASONS[code] ?? '';
  }
}

/** A 422 as kube-apiserver reports it: the generic message, with the real cause in `detail`. */
export function unprocessable(detail: string): PatchError {
  return new PatchError(UNPROCESSABLE_MESSAGE, 422, detail);
}

export const PATCH_CONTENT_TYPES = {
  json: 'application/json-patch+json',
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
} as const;

/**
 * The 415 kube-apiserver answers a PATCH with when its Content-Type is not one the resource
 * accepts. Custom resources accept no strategic merge patch, so this is also the answer to a
 * strategic merge patch of a custom resource.
 */
export function unsupportedPatchType(customResource: boolean): PatchError {
  const accepted = customResource
    ? [PATCH_CONTENT_TYPES.json, PATCH_CONTENT_TYPES.merge, PATCH_CONTENT_TYPES.apply]
    : [PATCH_CONTENT_TYPES.json, PATCH_CONTENT_TYPES.merge, PATCH_CONTENT_TYPES.strategic, PATCH_CONTENT_TYPES.apply];
  return new PatchError(
    `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`,
    415,
  );
}
