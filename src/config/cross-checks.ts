import { credlyEndpoints } from './endpoints.ts';
import type { ConfigProblem } from './errors.ts';
import { LEARNLINK_SCOPES } from './inventory.schema.ts';
import { probeProblems } from './probe.ts';

type Item = Record<string, unknown>;

function items(value: unknown): Item[] {
  return Array.isArray(value) ? value.map((v) => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Item) : {})) : [];
}

function lower(value: unknown): unknown {
  return typeof value === 'string' ? value.toLowerCase() : value;
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

/** The API base a Credly entry's calls go to, as resolved at load; undefined while its fields are unreadable. */
function credlyApiBase(c: Item): string | undefined {
  if (c.environment !== 'production' && c.environment !== 'sandbox') return undefined;
  const overrides = typeof c.endpoints === 'object' && c.endpoints !== null ? (c.endpoints as Item) : {};
  const apiBase = overrides.apiBase;
  if (apiBase !== undefined && typeof apiBase !== 'string') return undefined;
  return credlyEndpoints(c.environment, apiBase === undefined ? {} : { apiBase }).apiBase;
}

function managedByProblems(credentials: Item[], byId: Map<string, Item>): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  credentials.forEach((c, index) => {
    if (c.kind !== 'credly-oauth-application' || typeof c.managedBy !== 'string') return;
    const path = `credentials[${index}].managedBy`;
    const manager = byId.get(c.managedBy);
    if (!manager) {
      problems.push({ path, message: `no credential with id "${c.managedBy}"` });
    } else if (manager.kind !== 'credly-authorization-token') {
      problems.push({ path, message: `"${c.managedBy}" is a ${String(manager.kind)}; it must be a credly-authorization-token` });
    } else if (lower(manager.organizationId) !== lower(c.organizationId)) {
      problems.push({ path, message: `"${c.managedBy}" belongs to another Credly organization; it must have the same organizationId` });
    } else if (manager.environment !== c.environment) {
      problems.push({ path, message: `"${c.managedBy}" is in another Credly environment; it must have the same environment` });
    } else if (credlyApiBase(c) !== undefined && credlyApiBase(manager) !== undefined && credlyApiBase(c) !== credlyApiBase(manager)) {
      // Management calls carry the managing token: they go to the manager's API and nowhere else.
      // The URLs are not repeated: the path names the field, and a URL may carry what it should not.
      problems.push({
        path: `credentials[${index}].endpoints.apiBase`,
        message: `differs from the apiBase of its managing credential "${c.managedBy}"; the managing token is only sent to its own API, so both must use the same one`,
      });
    }
  });
  return problems;
}

const ALL_LEARNLINK_SCOPES: readonly string[] = [...new Set([...LEARNLINK_SCOPES.api, ...LEARNLINK_SCOPES.webhooks])];

function learnlinkScopeProblems(credentials: Item[]): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  credentials.forEach((c, index) => {
    if (c.kind !== 'learnlink-client-credentials' || !Array.isArray(c.scopes)) return;
    const audience = c.audience === 'api' || c.audience === 'webhooks' ? c.audience : undefined;
    (c.scopes as unknown[]).forEach((scope, i) => {
      if (typeof scope !== 'string') return;
      const path = `credentials[${index}].scopes[${i}]`;
      if (audience) {
        const allowed: readonly string[] = LEARNLINK_SCOPES[audience];
        if (!allowed.includes(scope)) {
          problems.push({ path, message: `scope "${scope}" is not valid for audience ${audience}; expected one of ${allowed.join(', ')}` });
        }
      } else if (!ALL_LEARNLINK_SCOPES.includes(scope)) {
        // The audience itself is wrong (reported on its own); still name scopes no audience allows.
        problems.push({ path, message: `unknown Learn.link scope "${scope}"; expected one of ${ALL_LEARNLINK_SCOPES.join(', ')}` });
      }
    });
  });
  return problems;
}

function sinkFilterProblems(sinks: Item[], byId: Map<string, Item>): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  sinks.forEach((sink, index) => {
    const ids = Array.isArray(sink.credentials) ? (sink.credentials as unknown[]) : [];
    ids.forEach((id, i) => {
      if (typeof id === 'string' && !byId.has(id)) {
        problems.push({ path: `alerts[${index}].credentials[${i}]`, message: `no credential with id "${id}"` });
      }
    });
  });
  return problems;
}

/**
 * Rules across entries, checked on the raw document so they are reported beside shape problems
 * instead of after them: unique ids and secrets, references that must point at the right
 * credentials, Learn.link scopes that depend on the audience, and probes the scopes allow.
 */
export function crossCheck(raw: unknown): ConfigProblem[] {
  const root = (typeof raw === 'object' && raw !== null ? raw : {}) as Item;
  const credentials = items(root.credentials);
  const sinks = items(root.alerts);
  const byId = new Map<string, Item>();
  for (const c of credentials) if (typeof c.id === 'string' && !byId.has(c.id)) byId.set(c.id, c);

  return [
    ...duplicates(credentials, 'id', 'credentials', 'id'),
    ...duplicates(credentials, 'secretId', 'credentials', 'secretId'),
    ...duplicates(sinks, 'id', 'alerts', 'sink id'),
    ...managedByProblems(credentials, byId),
    ...learnlinkScopeProblems(credentials),
    ...probeProblems(credentials),
    ...sinkFilterProblems(sinks, byId),
  ];
}
