/** Writes a client made, read from the control plane's /metrics (apiserver_request_total{client}). */
const WRITE_VERBS = new Set(['CREATE', 'UPDATE', 'PATCH', 'APPLY', 'DELETE', 'DELETECOLLECTION', 'create', 'update', 'patch', 'apply', 'delete', 'deletecollection']);

export async function writesBy(url: string, client: string, filter: (labels: Record<string, string>) => boolean = () => true): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let n = 0;
  for (const line of text.split('\n')) {
    const m = /^apiserver_request_total\{(.*)\} (\d+(?:\.\d+)?)$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const kv of m[1]!.matchAll(/(\w+)="([^"]*)"/g)) labels[kv[1]!] = kv[2]!;
    if (labels.client === client && WRITE_VERBS.has(labels.verb ?? '') && filter(labels)) n += Number(m[2]);
  }
  return n;
}
