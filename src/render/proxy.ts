/** The proxy variables a NIM container and a NIMCache Job get when `spec.proxy` is set (§2.1.2, §2.2.4). */
import type { V1EnvVar } from '@kubernetes/client-node';
import type { Wire } from '../api/schema.js';

interface Proxy {
  httpsProxy?: string;
  httpProxy?: string;
  noProxy?: string;
}

/** The seven proxy variables (empty values for the unset ones); none without a proxy. */
export function proxyVariables(p: Proxy | undefined): Wire<V1EnvVar>[] {
  if (!p) return [];
  return [
    { name: 'NIM_SDK_USE_NATIVE_TLS', value: '1' },
    { name: 'HTTPS_PROXY', value: p.httpsProxy ?? '' },
    { name: 'HTTP_PROXY', value: p.httpProxy ?? '' },
    { name: 'NO_PROXY', value: p.noProxy ?? '' },
    { name: 'https_proxy', value: p.httpsProxy ?? '' },
    { name: 'http_proxy', value: p.httpProxy ?? '' },
    { name: 'no_proxy', value: p.noProxy ?? '' },
  ];
}
