/**
 * Upstream's validating-webhook rules for NIMCache (inventory §3.1, rules C1–C11), as pure
 * functions. Paths start with `nimcache.spec`, as upstream's do.
 */
import type { NIMCache } from '../../api/v1alpha1/kinds.js';
import { fieldError, OMIT_VALUE, type FieldError } from '../../api/validation/index.js';
import { isZero, semanticEqual } from './util.js';

type CacheSpec = NIMCache['spec'];
type PVC = NonNullable<CacheSpec['storage']['pvc']>;

const SPEC = 'nimcache.spec';
const ACCESS_MODES = ['ReadWriteOnce', 'ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOncePod'];
const QOS_PROFILES = ['latency', 'throughput'];
const NO_PROXY_TOKENS = [
  /^\.?[a-zA-Z0-9.-]+$/, // hostname or .domain
  /^(\d{1,3}\.){3}\d{1,3}(:\d+)?$/, // IPv4, optional port
  /^\[[0-9a-fA-F:]+\](?::\d+)?$/, // bracketed IPv6, optional port
  /^(\d{1,3}\.){3}\d{1,3}\/\d{1,2}$/, // IPv4 CIDR
  /^\[[0-9a-fA-F:]+\]\/\d{1,3}$/, // bracketed IPv6 CIDR
];

/** C7 and C8: a PVC source; shared with NIMService's storage.pvc (S7). */
export function checkPVC(pvc: PVC, path: string): FieldError[] {
  const errors: FieldError[] = [];
  if (pvc.create !== true && !pvc.name) {
    errors.push(fieldError('FieldValueRequired', `${path}.name`, OMIT_VALUE, `must be provided when ${path}.create is false`));
  }
  if (pvc.volumeAccessMode && !ACCESS_MODES.includes(pvc.volumeAccessMode)) {
    errors.push(fieldError('FieldValueInvalid', `${path}.volumeAccessMode`, pvc.volumeAccessMode, 'unrecognized volumeAccessMode'));
  }
  return errors;
}

/** C9 and C10: the proxy settings. */
export function checkProxy(proxy: CacheSpec['proxy'], path: string): FieldError[] {
  const errors: FieldError[] = [];
  if (!proxy) return errors;
  if (proxy.noProxy) {
    proxy.noProxy.split(',').forEach((raw, i) => {
      const token = raw.trim();
      if (token === '') return;
      if (!NO_PROXY_TOKENS.some((re) => re.test(token))) {
        errors.push(fieldError('FieldValueInvalid', `${path}.noProxy[${i}]`, token, 'invalid token'));
      }
    });
  }
  for (const key of ['httpsProxy', 'httpProxy'] as const) {
    const v = proxy[key];
    if (v && !v.startsWith('http://') && !v.startsWith('https://')) {
      errors.push(fieldError('FieldValueInvalid', `${path}.${key}`, v, 'must start with http:// or https://'));
    }
  }
  return errors;
}

const PROFILE_EXCLUSIVE = ['precision', 'engine', 'tensorParallelism', 'qosProfile', 'gpus', 'lora', 'buildable'] as const;

/** C1–C10: the checks run on create and on update. */
export function validateNIMCacheSpec(spec: CacheSpec): FieldError[] {
  const errors: FieldError[] = [];
  const ngc = spec.source?.ngc;
  if (ngc) {
    const ngcPath = `${SPEC}.source.ngc`;
    const model = ngc.model;
    const profiles = model?.profiles ?? [];
    if (profiles.length > 0 && profiles.includes('all') && profiles.length !== 1) {
      errors.push(fieldError('FieldValueInvalid', `${ngcPath}.model.profiles`, profiles, "must only have a single entry when it contains 'all'"));
    }
    if (model && profiles.length > 0) {
      for (const key of PROFILE_EXCLUSIVE) {
        const v = model[key];
        // Pointers (lora, buildable) count when set at all; strings and lists when non-empty.
        const set = typeof v === 'boolean' ? true : !isZero(v);
        if (set) {
          errors.push(
            fieldError('FieldValueForbidden', `${ngcPath}.model.${key}`, OMIT_VALUE, `must be empty if ${ngcPath}.model.profiles is provided`),
          );
        }
      }
    }
    if (model?.qosProfile && !QOS_PROFILES.includes(model.qosProfile)) {
      errors.push(
        fieldError('FieldValueNotSupported', `${ngcPath}.model.qosProfile`, model.qosProfile, 'supported values: "latency", "throughput"'),
      );
    }
    if (!ngc.authSecret) errors.push(fieldError('FieldValueRequired', `${ngcPath}.authSecret`, OMIT_VALUE, 'must be non-empty'));
    if (!ngc.modelPuller) errors.push(fieldError('FieldValueRequired', `${ngcPath}.modelPuller`, OMIT_VALUE, 'must be non-empty'));
  }
  const pvc = spec.storage?.pvc;
  if (!pvc || isZero(pvc)) {
    errors.push(fieldError('FieldValueRequired', `${SPEC}.storage`, OMIT_VALUE, 'must not be empty'));
  } else {
    errors.push(...checkPVC(pvc, `${SPEC}.storage.pvc`));
  }
  errors.push(...checkProxy(spec.proxy, `${SPEC}.proxy`));
  return errors;
}

/** C11: on update the whole spec is frozen (after the create checks). */
export function validateNIMCacheUpdate(spec: CacheSpec, oldSpec: CacheSpec): FieldError[] {
  const errors = validateNIMCacheSpec(spec);
  if (!semanticEqual(spec, oldSpec)) {
    errors.push(fieldError('FieldValueForbidden', SPEC, OMIT_VALUE, 'is immutable once the object is created'));
  }
  return errors;
}

export function nimCacheRules(obj: NIMCache, old?: NIMCache): FieldError[] {
  const spec = obj.spec ?? ({} as CacheSpec);
  return old ? validateNIMCacheUpdate(spec, old.spec ?? ({} as CacheSpec)) : validateNIMCacheSpec(spec);
}
