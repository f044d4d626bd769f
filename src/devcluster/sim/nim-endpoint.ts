/**
 * A simulated NIM's HTTP API on loopback, one server per running NIM container: health, models,
 * metadata, an OpenAI-compatible chat/completions answer, embeddings and ranking, and Prometheus
 * metrics whose load (queue depth, running requests, KV-cache use, time to first token) a test sets.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { NimImage } from './nim-image.js';
import type { ContainerFS } from './vfs.js';

export interface NimLoad {
  /** Requests being processed (num_requests_running). */
  running: number;
  /** Requests queued (num_requests_waiting). */
  waiting: number;
  /** KV-cache use, 0–1 (gpu_cache_usage_perc). */
  kvCacheUsage: number;
  /** Time to first token of the requests it answers, in seconds. */
  ttftSeconds: number;
}

export const IDLE: NimLoad = { running: 0, waiting: 0, kvCacheUsage: 0, ttftSeconds: 0.045 };

export interface EndpointOptions {
  namespace: string;
  pod: string;
  image: NimImage;
  model: string;
  profile: string;
  profileName: string;
  /** Directory of LoRA adapters (NIM_PEFT_SOURCE), read at each request. */
  peftSource: string;
  fs: ContainerFS;
  /** Epoch ms when the model is loaded. */
  readyAt: number;
  load: () => NimLoad;
  onChange: () => void;
}

const TTFT_BUCKETS = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

export class NimEndpoint {
  private server?: Server;
  port = 0;
  private health: { live?: boolean; ready?: boolean } = {};
  private readyTimer?: NodeJS.Timeout;
  readonly counters = { requests: 0, failed: 0, promptTokens: 0, generationTokens: 0, ttftSum: 0, ttft: TTFT_BUCKETS.map(() => 0) };

  constructor(readonly o: EndpointOptions) {}

  async start(): Promise<void> {
    const server = createServer((req, res) => this.handle(req, res));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    const wait = this.o.readyAt - Date.now();
    if (wait > 0) this.readyTimer = setTimeout(() => this.o.onChange(), wait + 1);
    this.o.onChange();
  }

  async stop(): Promise<void> {
    if (this.readyTimer) clearTimeout(this.readyTimer);
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    await new Promise<void>((resolve) => {
      s.close(() => resolve());
      s.closeAllConnections();
    });
  }

  get listening(): boolean {
    return this.port > 0 && this.server !== undefined;
  }

  get live(): boolean {
    return this.listening && this.health.live !== false;
  }

  /** Loaded, listening, and not made unready by a test. */
  get ready(): boolean {
    return this.live && Date.now() >= this.o.readyAt && this.health.ready !== false;
  }

  setHealth(h: { live?: boolean; ready?: boolean }): void {
    this.health = { ...this.health, ...h };
    this.o.onChange();
  }

  /** Model ids it serves: the base model, then LoRA adapters found under NIM_PEFT_SOURCE. */
  models(): { id: string; root: string; parent: string | null }[] {
    const base = { id: this.o.model, root: this.o.model, parent: null };
    if (!this.o.peftSource) return [base];
    const adapters = this.o.fs.list(this.o.peftSource).filter((n) => this.o.fs.isDir(`${this.o.peftSource}/${n}`));
    return [base, ...adapters.map((a) => ({ id: a, root: `${this.o.peftSource}/${a}`, parent: this.o.model }))];
  }

  /** Prometheus text of /v1/metrics. */
  metrics(): string {
    const load = this.o.load();
    const m = `model_name="${this.o.model}"`;
    const c = this.counters;
    const lines = [
      '# HELP num_requests_running Number of requests currently running on GPU.',
      '# TYPE num_requests_running gauge',
      `num_requests_running{${m}} ${load.running}`,
      '# HELP num_requests_waiting Number of requests waiting to be processed.',
      '# TYPE num_requests_waiting gauge',
      `num_requests_waiting{${m}} ${load.waiting}`,
      '# HELP gpu_cache_usage_perc GPU KV-cache usage. 1 means 100 percent usage.',
      '# TYPE gpu_cache_usage_perc gauge',
      `gpu_cache_usage_perc{${m}} ${load.kvCacheUsage}`,
      '# HELP time_to_first_token_seconds Histogram of time to first token in seconds.',
      '# TYPE time_to_first_token_seconds histogram',
      ...TTFT_BUCKETS.map((le, i) => `time_to_first_token_seconds_bucket{le="${le}",${m}} ${c.ttft[i]}`),
      `time_to_first_token_seconds_bucket{le="+Inf",${m}} ${c.requests}`,
      `time_to_first_token_seconds_sum{${m}} ${c.ttftSum}`,
      `time_to_first_token_seconds_count{${m}} ${c.requests}`,
      '# HELP request_success_total Count of successfully processed requests.',
      '# TYPE request_success_total counter',
      `request_success_total{${m}} ${c.requests}`,
      '# HELP request_failure_total Count of failed requests.',
      '# TYPE request_failure_total counter',
      `request_failure_total{${m}} ${c.failed}`,
      '# HELP prompt_tokens_total Number of prefill tokens processed.',
      '# TYPE prompt_tokens_total counter',
      `prompt_tokens_total{${m}} ${c.promptTokens}`,
      '# HELP generation_tokens_total Number of generation tokens processed.',
      '# TYPE generation_tokens_total counter',
      `generation_tokens_total{${m}} ${c.generationTokens}`,
    ];
    return `${lines.join('\n')}\n`;
  }

  private send(res: ServerResponse, code: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => {
      try {
        this.route(req, res, Buffer.concat(chunks).toString('utf8'));
      } catch (e) {
        if (!res.headersSent) this.send(res, 500, { object: 'error', message: String(e), type: 'InternalServerError', code: 500 });
      }
    });
  }

  private route(req: IncomingMessage, res: ServerResponse, body: string): void {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname.replace(/\/+$/, '') || '/';
    const method = (req.method ?? 'GET').toUpperCase();
    const kind = this.o.image.kind;
    if (method === 'GET') {
      switch (path) {
        case '/v1/health/live':
          return this.send(res, this.live ? 200 : 503, { object: 'health.response', message: this.live ? 'Service is live.' : 'Service is not live.' });
        case '/v1/health/ready':
          return this.send(res, this.ready ? 200 : 503, { object: 'health.response', message: this.ready ? 'Service is ready.' : 'Service is not ready.' });
        case '/v1/models':
          if (kind === 'speech') return this.send(res, 404, { detail: 'Not Found' });
          return this.send(res, 200, {
            object: 'list',
            data: this.models().map((x) => ({ id: x.id, object: 'model', created: Math.floor(Date.now() / 1000), owned_by: 'system', root: x.root, parent: x.parent, max_model_len: this.o.image.maxModelLen, permission: [] })),
          });
        case '/v1/metadata':
          return this.send(res, 200, {
            version: this.o.image.release,
            assetInfo: [`${this.o.image.model}:${this.o.image.release}`],
            licenseInfo: { name: 'NVIDIA AI Enterprise', path: '/opt/nim/LICENSE', sha: '', type: 'file' },
            modelInfo: [{ modelUrl: `ngc://nim/${this.o.image.model}:${this.o.image.release}`, shortName: `${this.o.model}:${this.o.image.release}` }],
            repository_override: '',
            selectedModelProfileId: this.o.profile,
          });
        case '/v1/version':
          return this.send(res, 200, { release: this.o.image.release, api: '1.0.0' });
        case '/v1/metrics':
        case '/metrics': {
          const text = this.metrics();
          res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
          return void res.end(text);
        }
        default:
          return this.send(res, 404, { detail: 'Not Found' });
      }
    }
    if (method !== 'POST') return this.send(res, 405, { detail: 'Method Not Allowed' });
    let payload: Record<string, any>;
    try {
      payload = JSON.parse(body || '{}') as Record<string, any>;
    } catch {
      return this.send(res, 400, { object: 'error', message: 'Invalid JSON body', type: 'BadRequestError', param: null, code: 400 });
    }
    if (!this.ready) {
      this.counters.failed++;
      return this.send(res, 503, { object: 'error', message: 'Service is not ready.', type: 'ServiceUnavailableError', param: null, code: 503 });
    }
    if (path === '/v1/chat/completions' || path === '/v1/completions') return this.complete(res, path, payload);
    if (path === '/v1/embeddings' && kind === 'embedding') return this.embeddings(res, payload);
    if (path === '/v1/ranking' && kind === 'reranking') return this.ranking(res, payload);
    return this.send(res, 404, { detail: 'Not Found' });
  }

  private checkModel(res: ServerResponse, payload: Record<string, any>): string | undefined {
    const model = String(payload.model ?? this.o.model);
    if (!this.models().some((m) => m.id === model)) {
      this.counters.failed++;
      this.send(res, 404, { object: 'error', message: `The model \`${model}\` does not exist.`, type: 'NotFoundError', param: null, code: 404 });
      return undefined;
    }
    return model;
  }

  private observe(prompt: number, completion: number): void {
    const ttft = this.o.load().ttftSeconds;
    const c = this.counters;
    c.requests++;
    c.promptTokens += prompt;
    c.generationTokens += completion;
    c.ttftSum += ttft;
    TTFT_BUCKETS.forEach((le, i) => {
      if (ttft <= le) c.ttft[i]!++;
    });
  }

  private complete(res: ServerResponse, path: string, payload: Record<string, any>): void {
    if (this.o.image.kind !== 'llm') return this.send(res, 404, { detail: 'Not Found' });
    const model = this.checkModel(res, payload);
    if (!model) return;
    const chat = path === '/v1/chat/completions';
    const content = `This is a simulated answer from ${model} (nimop dev).`;
    const prompt = JSON.stringify(chat ? (payload.messages ?? []) : (payload.prompt ?? '')).split(/\s+/).length;
    const completion = content.split(' ').length;
    this.observe(prompt, completion);
    const id = `${chat ? 'chatcmpl' : 'cmpl'}-${randomBytes(12).toString('hex')}`;
    const created = Math.floor(Date.now() / 1000);
    const usage = { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
    if (payload.stream) {
      res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
      const chunk = (delta: Record<string, unknown>, finish: string | null) =>
        `data: ${JSON.stringify({ id, object: chat ? 'chat.completion.chunk' : 'text_completion', created, model, choices: [chat ? { index: 0, delta, finish_reason: finish } : { index: 0, text: delta.content ?? '', finish_reason: finish }] })}\n\n`;
      res.write(chunk({ role: 'assistant', content: '' }, null));
      for (const word of content.split(' ')) res.write(chunk({ content: `${word} ` }, null));
      res.write(chunk({}, 'stop'));
      return void res.end('data: [DONE]\n\n');
    }
    this.send(res, 200, {
      id,
      object: chat ? 'chat.completion' : 'text_completion',
      created,
      model,
      choices: [chat ? { index: 0, message: { role: 'assistant', content }, logprobs: null, finish_reason: 'stop' } : { index: 0, text: content, logprobs: null, finish_reason: 'stop' }],
      usage,
    });
  }

  private embeddings(res: ServerResponse, payload: Record<string, any>): void {
    const model = this.checkModel(res, payload);
    if (!model) return;
    const inputs: unknown[] = Array.isArray(payload.input) ? payload.input : [payload.input ?? ''];
    this.observe(inputs.length, 0);
    this.send(res, 200, {
      object: 'list',
      model,
      data: inputs.map((text, index) => ({ object: 'embedding', index, embedding: vector(String(text)) })),
      usage: { prompt_tokens: inputs.length, total_tokens: inputs.length },
    });
  }

  private ranking(res: ServerResponse, payload: Record<string, any>): void {
    const model = this.checkModel(res, payload);
    if (!model) return;
    const passages: Record<string, any>[] = Array.isArray(payload.passages) ? payload.passages : [];
    this.observe(passages.length, 0);
    const ranked = passages.map((p, index) => ({ index, logit: vector(String(p?.text ?? ''), 1)[0]! * 10 })).sort((a, b) => b.logit - a.logit);
    this.send(res, 200, { rankings: ranked });
  }
}

/** A deterministic small vector for a text. */
function vector(text: string, n = 8): number[] {
  const out: number[] = [];
  let h = 2166136261;
  for (let i = 0; i < n; i++) {
    for (const ch of `${text}#${i}`) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
    out.push(Number(((h / 0xffffffff) * 2 - 1).toFixed(6)));
  }
  return out;
}
