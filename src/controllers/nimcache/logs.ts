/** Reading a container's log through the `pods/log` subresource (plain text, not JSON). */
import { resourcePath, type Client } from '../../runtime/client/client.js';
import { POD } from '../refs.js';

export interface LogOptions {
  container: string;
  tailLines?: number;
  limitBytes?: number;
  timeoutMs?: number;
}

/** The log of a pod's container; rejects with the API's error (e.g. 400 for a container that never started). */
export async function readPodLog(client: Client, namespace: string, pod: string, o: LogOptions): Promise<string> {
  const { res, abort } = await client.rest.stream({
    method: 'GET',
    path: resourcePath(POD, namespace, pod, 'log'),
    query: { container: o.container, tailLines: o.tailLines, limitBytes: o.limitBytes },
    timeoutMs: o.timeoutMs ?? 30_000,
  });
  const limit = o.limitBytes ?? 4 * 1024 * 1024;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(() => {
      abort();
      reject(new Error(`reading the log of pod ${namespace}/${pod} took longer than ${o.timeoutMs ?? 30_000} ms`));
    }, o.timeoutMs ?? 30_000);
    res.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= limit) chunks.push(c);
    });
    res.on('end', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    res.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}
