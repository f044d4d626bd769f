/**
 * The image catalogue: what a container of a given image does in the simulation. It is YAML of our
 * own (catalogue.yaml beside this file is the built-in one; a user file is tried first), validated
 * on load. Entries are matched by glob on the normalized image reference; the first match wins.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { parse } from 'yaml';

const Behaviour = {
  /** What the container prints to its log (`${VAR}` is replaced from its environment). */
  log: Type.Optional(Type.String()),
  /** Exit code; absent means the container keeps running. */
  exit: Type.Optional(Type.Integer({ minimum: 0, maximum: 255 })),
  /** When it exits, in ms after it starts (scaled by the simulation's timeScale). */
  afterMs: Type.Optional(Type.Number({ minimum: 0 })),
  /** Whether it answers its readiness probe while it runs (default true). */
  ready: Type.Optional(Type.Boolean()),
  /** When it turns ready, in ms after it starts (scaled). */
  readyAfterMs: Type.Optional(Type.Number({ minimum: 0 })),
  /** The image cannot be pulled: the container waits in ErrImagePull/ImagePullBackOff with this message. */
  pullError: Type.Optional(Type.String()),
};

const RunRule = Type.Object({
  when: Type.Optional(
    Type.Object(
      {
        /** Regular expression tested against the command and args joined by spaces. */
        command: Type.Optional(Type.String()),
        /** Environment variables and regular expressions their values must match. */
        env: Type.Optional(Type.Record(Type.String(), Type.String())),
        restartPolicy: Type.Optional(Type.Union([Type.Literal('Always'), Type.Literal('OnFailure'), Type.Literal('Never')])),
      },
      { additionalProperties: false },
    ),
  ),
  ...Behaviour,
}, { additionalProperties: false });

const Profiles = Type.Object(
  {
    engines: Type.Optional(Type.Array(Type.String())),
    precisions: Type.Optional(Type.Array(Type.String())),
    tensorParallelism: Type.Optional(Type.Array(Type.Integer({ minimum: 1 }))),
    pipelineParallelism: Type.Optional(Type.Array(Type.Integer({ minimum: 1 }))),
    gpus: Type.Optional(Type.Array(Type.String())),
    lora: Type.Optional(Type.Boolean()),
    buildable: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

const Nim = Type.Object(
  {
    /** llm (OpenAI chat API), embedding, reranking or speech (no /v1/models: /v1/metadata only). */
    kind: Type.Optional(Type.Union([Type.Literal('llm'), Type.Literal('embedding'), Type.Literal('reranking'), Type.Literal('speech')])),
    /** The model it serves; default: the repository path after the registry's `nim/` (meta/llama-3.1-8b-instruct). */
    model: Type.Optional(Type.String()),
    /**
     * Its model_manifest.yaml: generated in NIM's v1 or v2 format, `none` for an image without one
     * (a model-free multi-LLM NIM), or the manifest itself (YAML text).
     */
    manifest: Type.Optional(Type.String()),
    profiles: Type.Optional(Profiles),
    /** How long downloading the model takes (ms, scaled). */
    downloadMs: Type.Optional(Type.Number({ minimum: 0 })),
    /** How long the server takes to load the model before it is ready (ms, scaled). */
    loadMs: Type.Optional(Type.Number({ minimum: 0 })),
    /** How long building a TensorRT-LLM engine takes (ms, scaled). */
    buildMs: Type.Optional(Type.Number({ minimum: 0 })),
    maxModelLen: Type.Optional(Type.Integer({ minimum: 1 })),
  },
  { additionalProperties: false },
);

const Entry = Type.Object(
  {
    match: Type.Union([Type.String(), Type.Array(Type.String(), { minItems: 1 })]),
    description: Type.Optional(Type.String()),
    /** Interpret `sh -c` / `bash -c` scripts (echo, cat, sleep, exit, if, while …). */
    shell: Type.Optional(Type.Boolean()),
    /** NIM tools the image carries besides a shell (e.g. huggingface-cli). NIM images carry all. */
    tools: Type.Optional(Type.Array(Type.String())),
    /** Files in the image, by absolute path. */
    files: Type.Optional(Type.Record(Type.String(), Type.String())),
    /** OCI image config labels (e.g. com.nvidia.nim.model_download_protocol). */
    labels: Type.Optional(Type.Record(Type.String(), Type.String())),
    nim: Type.Optional(Nim),
    /** Rules tried in order before the image's own behaviour. */
    run: Type.Optional(Type.Array(RunRule)),
    ...Behaviour,
  },
  { additionalProperties: false },
);

const CatalogueFile = Type.Object({ images: Type.Array(Entry) }, { additionalProperties: false });

export type CatalogueEntry = Static<typeof Entry>;
export type RunRuleSpec = Static<typeof RunRule>;
export type NimSpec = Static<typeof Nim>;
export type ProfileSpec = Static<typeof Profiles>;

export class CatalogueError extends Error {}

/** Parses and validates catalogue YAML; errors name the file and the field. */
export function parseCatalogue(text: string, source: string): CatalogueEntry[] {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (e) {
    throw new CatalogueError(`${source}: ${(e as Error).message}`);
  }
  if (!Value.Check(CatalogueFile, doc)) {
    const first = [...Value.Errors(CatalogueFile, doc)].slice(0, 5);
    throw new CatalogueError(`${source}: ${first.map((e) => `${e.path || '/'}: ${e.message}`).join('; ')}`);
  }
  for (const [i, e] of doc.images.entries()) {
    for (const r of e.run ?? []) {
      for (const re of [r.when?.command, ...Object.values(r.when?.env ?? {})]) {
        if (re === undefined) continue;
        try {
          new RegExp(re);
        } catch (err) {
          throw new CatalogueError(`${source}: /images/${i}/run: ${(err as Error).message}`);
        }
      }
    }
  }
  return doc.images;
}

/** `busybox` → `docker.io/library/busybox:latest`; a reference with a registry is kept. */
export function normalizeImage(image: string): string {
  let ref = image.trim();
  const firstSlash = ref.indexOf('/');
  const first = firstSlash < 0 ? '' : ref.slice(0, firstSlash);
  const hasRegistry = first.includes('.') || first.includes(':') || first === 'localhost';
  if (!hasRegistry) ref = `docker.io/${firstSlash < 0 ? `library/${ref}` : ref}`;
  const lastSlash = ref.lastIndexOf('/');
  const tail = ref.slice(lastSlash + 1);
  if (!tail.includes(':') && !tail.includes('@')) ref += ':latest';
  return ref;
}

/** The repository of a reference (no tag or digest). */
export function repositoryOf(image: string): string {
  const ref = normalizeImage(image).replace(/@.*$/, '');
  const lastSlash = ref.lastIndexOf('/');
  const colon = ref.indexOf(':', lastSlash);
  return colon < 0 ? ref : ref.slice(0, colon);
}

export function tagOf(image: string): string {
  const ref = normalizeImage(image);
  const at = ref.indexOf('@');
  if (at >= 0) return ref.slice(at + 1);
  const lastSlash = ref.lastIndexOf('/');
  const colon = ref.indexOf(':', lastSlash);
  return colon < 0 ? 'latest' : ref.slice(colon + 1);
}

/** Glob: `**` any characters, `*` any but `/`, `?` one but `/`. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i]!;
    if (ch === '*' && glob[i + 1] === '*') {
      re += '.*';
      i++;
    } else if (ch === '*') re += '[^/]*';
    else if (ch === '?') re += '[^/]';
    else re += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

export function entryMatches(entry: CatalogueEntry, image: string): boolean {
  const globs = Array.isArray(entry.match) ? entry.match : [entry.match];
  const normalized = normalizeImage(image);
  return globs.some((g) => {
    const re = globToRegExp(g);
    return re.test(normalized) || re.test(image);
  });
}

/** The built-in catalogue's path (beside the compiled module, copied there by the build). */
export function builtinCataloguePath(): string {
  return fileURLToPath(new URL('./catalogue.yaml', import.meta.url));
}

export class Catalogue {
  private readonly overrides: CatalogueEntry[] = [];

  constructor(readonly entries: CatalogueEntry[]) {}

  /** The built-in catalogue, with a user file's entries tried first. */
  static load(userPath?: string): Catalogue {
    const builtin = builtinCataloguePath();
    if (!existsSync(builtin)) throw new CatalogueError(`the built-in image catalogue is missing: ${builtin}`);
    const entries = parseCatalogue(readFileSync(builtin, 'utf8'), builtin);
    if (!userPath) return new Catalogue(entries);
    let text: string;
    try {
      text = readFileSync(userPath, 'utf8');
    } catch (e) {
      throw new CatalogueError(`${userPath}: ${(e as Error).message}`);
    }
    return new Catalogue([...parseCatalogue(text, userPath), ...entries]);
  }

  /** Puts an entry before all others (test control); returns a function that removes it. */
  prepend(entry: CatalogueEntry): () => void {
    this.overrides.unshift(entry);
    return () => {
      const i = this.overrides.indexOf(entry);
      if (i >= 0) this.overrides.splice(i, 1);
    };
  }

  /** The entries that match an image, most specific (first) first. */
  matching(image: string): CatalogueEntry[] {
    return [...this.overrides, ...this.entries].filter((e) => entryMatches(e, image));
  }

  /** The first entry for an image. */
  lookup(image: string): CatalogueEntry | undefined {
    return this.matching(image)[0];
  }

  /** The NIM settings of an image: the first matching entry that has some. */
  nimOf(image: string): NimSpec | undefined {
    return this.matching(image).find((e) => e.nim)?.nim;
  }

  /** OCI config labels of an image (what a registry inspection would read). */
  imageLabels(image: string): Record<string, string> {
    return this.matching(image).find((e) => e.labels)?.labels ?? {};
  }
}
