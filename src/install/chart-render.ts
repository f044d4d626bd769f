/**
 * Renders our Helm chart as `helm template` would (for the template subset gotemplate.ts knows), so
 * the chart can be checked where helm is not installed: values.yaml merged with overrides, every
 * templates/*.yaml rendered with .Values, .Release and .Chart, plus the CRDs in crds/.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { renderTemplate } from './gotemplate.js';
import { parseStream } from './yaml.js';

export interface ChartRenderOptions {
  release?: { name?: string; namespace?: string };
  /** Overrides merged into values.yaml (maps merged key by key; lists and scalars replaced; null removes). */
  values?: Record<string, unknown>;
  /** Include the CRDs of crds/ (as `helm template --include-crds`). */
  includeCRDs?: boolean;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Helm's coalescing of user values into the chart's defaults. */
export function mergeValues(base: Obj, over: Obj): Obj {
  const out: Obj = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v === null) delete out[k];
    else if (isObj(v) && isObj(out[k])) out[k] = mergeValues(out[k] as Obj, v);
    else out[k] = v;
  }
  return out;
}

/** The rendered manifests, one YAML text per template (empty ones left out), by template path. */
export function renderChartTemplates(chartDir: string, opts: ChartRenderOptions = {}): Map<string, string> {
  const chart = parse(readFileSync(join(chartDir, 'Chart.yaml'), 'utf8')) as { name: string; version: string; appVersion?: string };
  const values = mergeValues((parse(readFileSync(join(chartDir, 'values.yaml'), 'utf8')) ?? {}) as Obj, opts.values ?? {});
  const data = {
    Values: values,
    Release: { Name: opts.release?.name ?? chart.name, Namespace: opts.release?.namespace ?? 'default', Service: 'Helm', IsInstall: true, IsUpgrade: false },
    Chart: { Name: chart.name, Version: chart.version, AppVersion: chart.appVersion ?? '' },
  };
  const out = new Map<string, string>();
  const dir = join(chartDir, 'templates');
  for (const name of readdirSync(dir).sort()) {
    if (name.startsWith('_') || !/\.ya?ml$/.test(name)) continue;
    const text = renderTemplate(readFileSync(join(dir, name), 'utf8'), data, `templates/${name}`);
    if (parseStream(text).length) out.set(`templates/${name}`, text);
  }
  return out;
}

/** Every object the chart installs (with `includeCRDs`, the CRDs too). */
export function renderChart(chartDir: string, opts: ChartRenderOptions = {}): Obj[] {
  const objects = [...renderChartTemplates(chartDir, opts).entries()].flatMap(([name, text]) => {
    try {
      return parseStream(text);
    } catch (e) {
      throw new Error(`${name}: ${(e as Error).message}\n${text}`);
    }
  });
  const crdDir = join(chartDir, 'crds');
  if (opts.includeCRDs && existsSync(crdDir)) {
    for (const name of readdirSync(crdDir).sort()) objects.push(...parseStream(readFileSync(join(crdDir, name), 'utf8')));
  }
  return objects;
}
