/**
 * The commands a NIM image has — download-to-cache, list-model-profiles, create-model-store,
 * huggingface-cli, the server entrypoints — and what they do to the container's files: a download
 * leaves the model in the cache volume, an engine build leaves a local manifest there.
 */
import { createHash } from 'node:crypto';
import { GPU_TABLE, manifestVersion, parseManifest, profileFits, profileName, renderV1, renderV2, type Profile } from './manifest.js';
import type { NimImage } from './nim-image.js';
import type { CommandResult, ShellContext, Tool } from './shell.js';

const ts = (ctx: ShellContext, dt = 0) => new Date(Date.now() + ctx.clock + dt).toISOString().replace('T', ' ').replace('Z', '');
const info = (ctx: ShellContext, msg: string, dt = 0): [number, string] => [dt, `INFO ${ts(ctx, dt)} ${msg}`];

function opt(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  if (i >= 0) return argv[i + 1];
  const eq = argv.find((a) => a.startsWith(`${name}=`));
  return eq?.slice(name.length + 1);
}

/** Values after a flag up to the next flag (`--profiles a b c`). */
function optList(argv: string[], name: string): string[] {
  const i = argv.indexOf(name);
  if (i < 0) return [];
  const out: string[] = [];
  for (const a of argv.slice(i + 1)) {
    if (a.startsWith('--')) break;
    out.push(...a.split(',').filter(Boolean));
  }
  return out;
}

const cachePath = (ctx: ShellContext) => ctx.env.get('NIM_CACHE_PATH') ?? '/opt/nim/.cache';
const slug = (model: string) => `models--nim--${model.replace(/\//g, '--')}`;

/** Profiles already downloaded into the cache (their ids). */
export function cachedProfiles(img: NimImage, ctx: Pick<ShellContext, 'fs' | 'env'>): Set<string> {
  const dir = `${ctx.env.get('NIM_CACHE_PATH') ?? '/opt/nim/.cache'}/ngc/hub/${slug(img.model)}/refs`;
  return new Set(ctx.fs.list(dir));
}

function writeProfile(img: NimImage, ctx: ShellContext, p: Profile, root = cachePath(ctx)): void {
  const base = `${root}/ngc/hub/${slug(img.model)}`;
  ctx.fs.write(`${base}/refs/${p.id}`, `${p.name}\n`);
  ctx.fs.write(`${base}/snapshots/${p.name}/config.json`, `${JSON.stringify({ _name_or_path: img.model, profile: p.name, tags: p.tags }, null, 2)}\n`);
  ctx.fs.write(`${base}/snapshots/${p.name}/checksums.blake3`, `${createHash('sha256').update(p.id).digest('hex')}  config.json\n`);
}

/** Profiles built locally (NIMBuild), from the cache's local manifest. */
export function localProfiles(ctx: Pick<ShellContext, 'fs' | 'env'>): Profile[] {
  const text = ctx.fs.read(`${ctx.env.get('NIM_CACHE_PATH') ?? '/opt/nim/.cache'}/local_cache/local_manifest.yaml`);
  if (!text) return [];
  try {
    return parseManifest(text);
  } catch {
    return [];
  }
}

export function downloadToCache(img: NimImage, argv: string[], ctx: ShellContext): CommandResult {
  const uri = opt(argv, '--model-uri');
  const dur = img.downloadMs * ctx.timeScale;
  if (uri) {
    const name = uri.replace(/^[a-z]+:\/\//, '');
    const root = ctx.env.get('NIM_CACHE_PATH') ?? '/opt/nim/.cache';
    ctx.fs.write(`${root}/config.json`, `${JSON.stringify({ _name_or_path: name, architectures: ['LlamaForCausalLM'] }, null, 2)}\n`);
    ctx.fs.write(`${root}/model.safetensors`, 'simulated weights\n');
    const mf = opt(argv, '--manifest-file');
    if (mf) ctx.fs.write(mf, `${JSON.stringify({ model: name, uri, files: ['config.json', 'model.safetensors'] }, null, 2)}\n`);
    return { code: 0, durationMs: dur, timed: [info(ctx, `Downloading model ${uri}`), info(ctx, `Model ${name} downloaded to ${root}`, dur)] };
  }
  if (!img.manifestText) {
    return { code: 1, out: `ERROR ${ts(ctx)} model_manifest.yaml not found: this NIM downloads by --model-uri\n` };
  }
  const all = argv.includes('--all');
  const wanted = optList(argv, '--profiles');
  const env = ctx.env.get('NIM_MODEL_PROFILE');
  if (!all && wanted.length === 0 && env) wanted.push(env);
  const known = new Map(img.profiles.flatMap((p) => [[p.id, p] as const, [p.name, p] as const]));
  const missing = wanted.filter((w) => !known.has(w));
  if (missing.length) {
    return {
      code: 1,
      out: `ERROR ${ts(ctx)} Invalid profile(s): ${missing.join(', ')}. Run list-model-profiles to see the profiles of ${img.model}.\n`,
    };
  }
  let chosen = all ? img.profiles : wanted.map((w) => known.get(w)!);
  if (chosen.length === 0) {
    // Without a choice the NIM takes what fits this machine's GPUs.
    chosen = img.profiles.filter((p) => p.tags.feat_lora !== 'true' && profileFits(p, ctx.gpus?.product, ctx.gpus?.count ?? 0)).slice(0, 1);
    if (chosen.length === 0) chosen = img.profiles.slice(0, 1);
  }
  const step = chosen.length ? dur / chosen.length : 0;
  const timed: [number, string][] = [info(ctx, `Fetching contents for ${chosen.length} profile(s) of ${img.model}:${img.release}`)];
  chosen.forEach((p, i) => {
    writeProfile(img, ctx, p);
    timed.push(info(ctx, `Downloading profile ${p.id} (${p.name})`, step * i));
    timed.push(info(ctx, `Profile ${p.id} downloaded`, step * (i + 1)));
  });
  timed.push(info(ctx, `Model ${img.model} is cached in ${cachePath(ctx)}`, dur));
  return { code: 0, durationMs: dur, timed };
}

function listModelProfiles(img: NimImage, _argv: string[], ctx: ShellContext): CommandResult {
  const g = ctx.gpus;
  const lines = ['SYSTEM INFO'];
  if (g && g.count > 0) {
    const short = Object.entries(GPU_TABLE).find(([k]) => g.product.toLowerCase().includes(k.toLowerCase()));
    lines.push('- Free GPUs:');
    for (let i = 0; i < g.count; i++) lines.push(`  -  [${short?.[1].device ?? '0000:10de'}] (${i}) ${g.product.replace(/-/g, ' ')} [current utilization: 0%]`);
  } else lines.push('- Free GPUs: <None>');
  const fit = img.profiles.filter((p) => profileFits(p, g?.product, g?.count ?? 0));
  const rest = img.profiles.filter((p) => !fit.includes(p));
  lines.push('MODEL PROFILES', '- Compatible with system and runnable:');
  for (const p of fit) lines.push(`  - ${p.id} (${p.name})`);
  if (fit.length === 0) lines.push('  <None>');
  lines.push('- Incompatible with system:');
  for (const p of rest) lines.push(`  - ${p.id} (${p.name})`);
  return { code: 0, out: `${lines.join('\n')}\n` };
}

function createModelStore(img: NimImage, argv: string[], ctx: ShellContext): CommandResult {
  const repo = opt(argv, '--model-repo') ?? '';
  const store = opt(argv, '--model-store') ?? cachePath(ctx);
  if (!repo) return { code: 2, out: 'create-model-store: error: the following arguments are required: --model-repo\n' };
  const name = repo.replace(/^[a-z]+:\/\//, '').replace(/:[^/]*$/, '');
  ctx.fs.write(`${store}/config.json`, `${JSON.stringify({ _name_or_path: name, architectures: ['LlamaForCausalLM'] }, null, 2)}\n`);
  ctx.fs.write(`${store}/model-00001-of-00001.safetensors`, 'simulated weights\n');
  ctx.fs.write(`${store}/tokenizer.json`, '{}\n');
  const dur = img.downloadMs * ctx.timeScale;
  return { code: 0, durationMs: dur, timed: [info(ctx, `Creating model store for ${repo} in ${store}`), info(ctx, `Model store created in ${store}`, dur)] };
}

/** `huggingface-cli download <repo> [files…] --local-dir D [--repo-type t] [--revision r]`. */
export function huggingfaceCli(argv: string[], ctx: ShellContext, downloadMs = 2000): CommandResult {
  if (argv[1] !== 'download') return { code: 0 };
  const positional = argv.slice(2).filter((a, i, all) => !a.startsWith('--') && !(all[i - 1] ?? '').startsWith('--'));
  const repo = positional[0];
  if (!repo) return { code: 2, out: 'usage: huggingface-cli download [-h] repo_id [filenames ...]\n' };
  const dir = opt(argv, '--local-dir') ?? `${ctx.env.get('HF_HOME') ?? '/root/.cache/huggingface'}/hub/models--${repo.replace(/\//g, '--')}`;
  const type = opt(argv, '--repo-type') ?? 'model';
  const files = /lora|adapter/i.test(repo)
    ? { 'adapter_config.json': JSON.stringify({ peft_type: 'LORA', r: 16, base_model_name_or_path: 'meta-llama/Llama-3.1-8B-Instruct' }), 'adapter_model.safetensors': 'simulated adapter\n' }
    : type === 'dataset'
      ? { 'data/train.jsonl': '{"text": "simulated"}\n' }
      : { 'config.json': JSON.stringify({ _name_or_path: repo, architectures: ['LlamaForCausalLM'] }), 'model.safetensors': 'simulated weights\n', 'tokenizer.json': '{}\n' };
  for (const [f, c] of Object.entries(files)) {
    if (!ctx.fs.write(`${dir}/${f}`, c)) return { code: 1, out: `OSError: [Errno 30] Read-only file system: '${dir}/${f}'\n` };
  }
  const dur = downloadMs * ctx.timeScale;
  const names = Object.keys(files);
  return {
    code: 0,
    durationMs: dur,
    timed: [[0, `Fetching ${names.length} files:   0%|          | 0/${names.length} [00:00<?, ?it/s]`], [dur, `Fetching ${names.length} files: 100%|██████████| ${names.length}/${names.length} [00:0${Math.min(9, Math.round(dur / 1000))}<00:00]`], [dur, dir]],
  };
}

/** The served model id of a NIM container. */
function servedModel(img: NimImage, ctx: ShellContext): string {
  const served = ctx.env.get('NIM_SERVED_MODEL_NAME');
  if (served) return served.split(',')[0]!.trim();
  if (img.manifestText) return img.model;
  const name = ctx.env.get('NIM_MODEL_NAME');
  if (!name) return img.model;
  if (/^[a-z]+:\/\//.test(name)) return name.replace(/^[a-z]+:\/\//, '').replace(/:[^/]*$/, '');
  const config = ctx.fs.read(`${name}/config.json`);
  if (config) {
    try {
      const c = JSON.parse(config) as { _name_or_path?: string };
      if (c._name_or_path) return c._name_or_path;
    } catch {
      /* fall through */
    }
  }
  return name.split('/').filter(Boolean).pop() ?? img.model;
}

function selectProfile(img: NimImage, ctx: ShellContext): { profile?: Profile; error?: string } {
  const all = [...img.profiles, ...localProfiles(ctx)];
  const want = ctx.env.get('NIM_MODEL_PROFILE');
  if (want) {
    const p = all.find((x) => x.id === want || x.name === want);
    return p ? { profile: p } : { error: `ValueError: Invalid profile: ${want}. Run list-model-profiles to see the profiles of ${img.model}.` };
  }
  if (all.length === 0) return {};
  const gpus = ctx.gpus?.count ?? 0;
  const cached = cachedProfiles(img, ctx);
  // An engine built into the store (local_cache) is cached too, and wins a tie with a downloaded one.
  const built = new Set(localProfiles(ctx).map((p) => p.id));
  const peft = ctx.env.has('NIM_PEFT_SOURCE');
  const fits = all.filter((p) => profileFits(p, ctx.gpus?.product, gpus) && (p.tags.feat_lora === 'true') === peft);
  const score = (p: Profile) =>
    (built.has(p.id) ? 101 : cached.has(p.id) ? 100 : 0) + (p.tags.llm_engine === 'tensorrt_llm' && p.tags.trtllm_buildable !== 'true' ? 10 : 0) + (Number(p.tags.tp ?? 1) === gpus ? 5 : 0) + (p.tags.profile === 'throughput' ? 1 : 0);
  const best = [...fits].sort((a, b) => score(b) - score(a))[0];
  return { profile: best ?? all.find((p) => p.tags.llm_engine !== 'tensorrt_llm') ?? all[0]! };
}

/** An engine build (NIMBuild's pod): the built profile goes into the cache's local manifest. */
function recordBuild(img: NimImage, input: Profile, ctx: ShellContext): Profile {
  const product = ctx.gpus?.product ?? '';
  const short = Object.keys(GPU_TABLE).find((k) => product.toLowerCase().includes(k.toLowerCase())) ?? (product.replace(/^NVIDIA-/, '') || 'GPU');
  const modelName = ctx.env.get('NIM_CUSTOM_MODEL_NAME')!;
  const tags: Record<string, string> = { ...input.tags, gpu: short, model_name: modelName, profile: 'throughput', trtllm_buildable: 'false' };
  if (GPU_TABLE[short]) tags.gpu_device = GPU_TABLE[short]!.device;
  const id = createHash('sha256').update(`${modelName}\u0000${input.id}\u0000${short}`).digest('hex');
  const built: Profile = { id, name: profileName(tags), tags, model: img.model, release: img.release };
  const path = `${cachePath(ctx)}/local_cache/local_manifest.yaml`;
  const existing = localProfiles(ctx).filter((p) => p.id !== id);
  const format = img.manifestText && manifestVersion(img.manifestText) === 'v2' ? 'v2' : 'v1';
  const all = [...existing, built];
  ctx.fs.write(path, format === 'v2' ? renderV2(all) : renderV1(all, `${img.image}`));
  ctx.fs.write(`${cachePath(ctx)}/local_cache/${id}/config.json`, `${JSON.stringify({ model_name: modelName, built_from: input.id }, null, 2)}\n`);
  return built;
}

/** The NIM server process: picks a profile, loads the model, serves the API. */
export function serve(img: NimImage, ctx: ShellContext): CommandResult {
  const selected = selectProfile(img, ctx);
  if (selected.error) return { code: 1, out: `ERROR ${ts(ctx)} ${selected.error}\n` };
  const model = servedModel(img, ctx);
  const timed: [number, string][] = [info(ctx, `NIM ${img.model}:${img.release} starting (simulated by nimop dev)`)];
  let p = selected.profile;
  let readyAfterMs = img.loadMs * ctx.timeScale;
  if (p) {
    timed.push(info(ctx, `Selected profile: ${p.id} (${p.name})`));
    timed.push(info(ctx, `Profile metadata: ${Object.entries(p.tags).map(([k, v]) => `${k}: ${v}`).join(', ')}`));
    if (p.tags.trtllm_buildable === 'true' && ctx.env.get('NIM_CUSTOM_MODEL_NAME')) {
      const build = img.buildMs * ctx.timeScale;
      timed.push(info(ctx, `Building TensorRT-LLM engine from ${p.id} for ${ctx.gpus?.product ?? 'this GPU'}`));
      p = recordBuild(img, p, ctx);
      timed.push(info(ctx, `Engine built: profile ${p.id} (${p.name}) written to ${cachePath(ctx)}/local_cache/local_manifest.yaml`, build));
      readyAfterMs += build;
    }
  }
  const peft = ctx.env.get('NIM_PEFT_SOURCE');
  if (peft) timed.push(info(ctx, `LoRA adapters are read from ${peft} every ${ctx.env.get('NIM_PEFT_REFRESH_INTERVAL') ?? '0'} s`));
  const port = ctx.env.get('NIM_SERVER_PORT') ?? ctx.env.get('NIM_HTTP_API_PORT') ?? '8000';
  timed.push(info(ctx, `Model ${model} loaded`, readyAfterMs));
  timed.push([readyAfterMs, `INFO:     Uvicorn running on http://0.0.0.0:${port} (Press CTRL+C to quit)`]);
  return {
    code: 0,
    timed,
    serve: {
      role: 'server',
      readyAfterMs,
      detail: { model, profile: p?.id ?? '', profileName: p?.name ?? '', peftSource: peft ?? '' },
    },
  };
}

function worker(img: NimImage, ctx: ShellContext, what: string): CommandResult {
  return { code: 0, timed: [info(ctx, `${what} for ${img.model} started (simulated)`)], serve: { role: 'worker', readyAfterMs: 0 } };
}

/** The image's entrypoint (no command given): a server, a multi-node worker, or a native download. */
export function entrypoint(img: NimImage, ctx: ShellContext): CommandResult {
  if (ctx.env.get('NIM_ENGINE_MODEL_DOWNLOAD_ONLY') === '1') {
    const r = downloadToCache(img, ['download-to-cache'], { ...ctx, env: new Map([...ctx.env, ['NIM_CACHE_PATH', ctx.env.get('NIM_ENGINE_MODEL_PATH') ?? cachePath(ctx)]]) });
    return r;
  }
  if (ctx.env.get('NIM_LEADER_ROLE') === '0') return worker(img, ctx, 'Multi-node worker');
  return serve(img, ctx);
}

/** The NIM image's commands, as shell tools. */
export function nimTools(img: NimImage): Map<string, Tool> {
  const m = new Map<string, Tool>();
  m.set('download-to-cache', (argv, ctx) => downloadToCache(img, argv, ctx));
  m.set('list-model-profiles', (argv, ctx) => listModelProfiles(img, argv, ctx));
  m.set('create-model-store', (argv, ctx) => createModelStore(img, argv, ctx));
  m.set('huggingface-cli', (argv, ctx) => huggingfaceCli(argv, ctx, img.downloadMs));
  m.set('nim-serve-ray', (argv, ctx) => (argv.includes('--head-address') ? worker(img, ctx, 'Ray worker') : serve(img, ctx)));
  m.set('ray', () => ({ code: 0, out: 'Node status\n---------------------------------------------------------------\nActive:\n 2 node(s)\n' }));
  for (const s of ['start_server.sh', 'start-mpi-cluster.sh', 'nim_llm', 'nimlib']) m.set(s, (_argv, ctx) => entrypoint(img, ctx));
  m.set('python3', (argv, ctx) => (argv.some((a) => a.includes('api_server') || a.includes('nim_llm')) ? entrypoint(img, ctx) : { code: 0 }));
  m.set('python', m.get('python3')!);
  return m;
}
