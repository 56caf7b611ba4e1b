import type { ConfigProblem } from './errors.ts';
import type { InventoryKind, RawEntry } from './types.ts';

type Item = RawEntry;

function items(value: unknown): Item[] {
  return Array.isArray(value) ? value.map((v) => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Item) : {})) : [];
}

function duplicates(list: Item[], field: string, section: string, what: string): ConfigProblem[] {
  const first = new Map<string, number>();
  const problems: ConfigProblem[] = [];
  list.forEach((item, index) => {
    const value = item[field];
    if (typeof value !== 'string') return;
    const seen = first.get(value);
    if (seen === undefined) first.set(value, index);
    else problems.push({ path: `${section}[${index}].${field}`, message: `duplicate ${what} "${value}" (first at ${section}[${seen}])` });
  });
  return problems;
}

function sinkFilterProblems(sinks: Item[], byId: Map<string, Item>, section = 'alerts'): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  sinks.forEach((sink, index) => {
    const ids = Array.isArray(sink.credentials) ? (sink.credentials as unknown[]) : [];
    ids.forEach((id, i) => {
      if (typeof id === 'string' && !byId.has(id)) {
        problems.push({ path: `${section}[${index}].credentials[${i}]`, message: `no credential with id "${id}"` });
      }
    });
  });
  return problems;
}

/**
 * Rules across entries, checked on the raw document so they are reported beside shape problems
 * instead of after them: unique ids and secrets, sink and event filters naming known credentials, and each
 * kind's own rules (references to other entries, fields judged together).
 */
export function crossCheck(raw: unknown, kinds: ReadonlyMap<string, InventoryKind>): ConfigProblem[] {
  const root = (typeof raw === 'object' && raw !== null ? raw : {}) as Item;
  const credentials = items(root.credentials);
  const sinks = items(root.alerts);
  const events = items(root.events);
  const byId = new Map<string, Item>();
  for (const c of credentials) if (typeof c.id === 'string' && !byId.has(c.id)) byId.set(c.id, c);

  return [
    ...duplicates(credentials, 'id', 'credentials', 'id'),
    ...duplicates(credentials, 'secretId', 'credentials', 'secretId'),
    ...duplicates(sinks, 'id', 'alerts', 'sink id'),
    ...credentials.flatMap((c, index) => (typeof c.kind === 'string' ? (kinds.get(c.kind)?.crossCheck?.(c, index, byId) ?? []) : [])),
    ...sinkFilterProblems(sinks, byId),
    ...duplicates(events, 'id', 'events', 'event receiver id'),
    ...sinkFilterProblems(events, byId, 'events'),
  ];
}
