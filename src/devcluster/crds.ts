/**
 * CustomResourceDefinitions: a CRD that is stored starts serving its kind (discovery, OpenAPI,
 * storage, validation by the shared engine) and is marked NamesAccepted and Established; a CRD that
 * is deleted stops serving and takes its objects with it.
 */
import type { JSONSchemaProps } from '../api/k8s/schemas.js';
import type { PrinterColumn } from '../api/v1alpha1/kinds.js';
import { nowRFC3339 } from './objects.js';
import type { Registry, ResourceType } from './registry.js';
import type { Obj } from './store.js';

export function crdResourceTypes(crd: Obj): ResourceType[] {
  const spec = crd.spec ?? {};
  const names = spec.names ?? {};
  const out: ResourceType[] = [];
  for (const v of spec.versions ?? []) {
    if (!v.served) continue;
    const schema: JSONSchemaProps = v.schema?.openAPIV3Schema ?? { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
    const scale = v.subresources?.scale;
    out.push({
      group: spec.group,
      version: v.name,
      kind: names.kind,
      listKind: names.listKind ?? `${names.kind}List`,
      plural: names.plural,
      singular: names.singular ?? String(names.kind).toLowerCase(),
      namespaced: spec.scope !== 'Cluster',
      shortNames: names.shortNames ?? [],
      categories: names.categories ?? [],
      status: v.subresources?.status !== undefined,
      ...(scale ? { scale } : {}),
      schema: () => schema,
      columns: (v.additionalPrinterColumns ?? defaultColumns()) as PrinterColumn[],
      generation: true,
      crd: crd.metadata.name,
      subresources: [],
    });
  }
  return out;
}

function defaultColumns(): PrinterColumn[] {
  return [{ name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' }];
}

/** Registers (or re-registers) the kinds of a CRD; returns the CRD with its status filled in. */
export function installCRD(registry: Registry, crd: Obj): Obj {
  for (const t of registry.all()) if (t.crd === crd.metadata.name) registry.remove(t.group, t.version, t.plural);
  for (const t of crdResourceTypes(crd)) registry.add(t);
  const now = nowRFC3339();
  const names = crd.spec.names;
  const keep = (type: string) => (crd.status?.conditions ?? []).find((c: Obj) => c.type === type && c.status === 'True');
  const cond = (type: string, reason: string, message: string) =>
    keep(type) ?? { type, status: 'True', lastTransitionTime: now, reason, message };
  return {
    ...crd,
    status: {
      acceptedNames: {
        kind: names.kind,
        listKind: names.listKind ?? `${names.kind}List`,
        plural: names.plural,
        singular: names.singular ?? String(names.kind).toLowerCase(),
        ...(names.shortNames ? { shortNames: names.shortNames } : {}),
        ...(names.categories ? { categories: names.categories } : {}),
      },
      conditions: [
        cond('NamesAccepted', 'NoConflicts', 'no conflicts found'),
        cond('Established', 'InitialNamesAccepted', 'the initial names have been accepted'),
      ],
      storedVersions: (crd.spec.versions ?? []).filter((v: Obj) => v.storage).map((v: Obj) => v.name),
    },
  };
}

export function uninstallCRD(registry: Registry, crdName: string): ResourceType[] {
  const removed = registry.all().filter((t) => t.crd === crdName);
  for (const t of removed) registry.remove(t.group, t.version, t.plural);
  return removed;
}
