import type { z } from 'zod';
import { formatPath, type ConfigProblem } from './errors.ts';
import { ALERT_SINK_KINDS } from './inventory.schema.ts';

function valueAt(root: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let node = root;
  for (const key of path) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node;
}

const TYPE_NAMES: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
  null: 'an empty value',
};

function describe(value: unknown): string {
  if (value === null) return TYPE_NAMES.null!;
  if (Array.isArray(value)) return TYPE_NAMES.array!;
  return TYPE_NAMES[typeof value] ?? typeof value;
}

/**
 * Turns zod issues into problems by path, with the messages a person needs. Values are echoed only
 * where they come from a closed list (kinds, enums): anything else might be a misplaced secret.
 */
export function zodProblems(issues: readonly z.core.$ZodIssue[], raw: unknown, credentialKinds: readonly string[] = []): ConfigProblem[] {
  return issues.flatMap((issue): ConfigProblem[] => {
    const path = formatPath(issue.path);
    const value = valueAt(raw, issue.path);
    switch (issue.code) {
      case 'unrecognized_keys':
        return issue.keys.map((key) => ({ path: formatPath([...issue.path, key]), message: 'unknown field (check the spelling)' }));
      case 'invalid_union': {
        if (issue.path.at(-1) !== 'kind') return [{ path, message: issue.message }];
        // No variant matches the discriminator: name the kinds that exist.
        const kinds: readonly string[] = issue.path[0] === 'alerts' ? ALERT_SINK_KINDS : credentialKinds;
        const what = value === undefined ? 'field "kind" is missing' : `unknown kind ${JSON.stringify(value)}`;
        return [{ path, message: `${what}; expected one of ${kinds.join(', ')}` }];
      }
      case 'invalid_value': {
        const expected = issue.values.length === 1 ? String(issue.values[0]) : `one of ${issue.values.map(String).join(', ')}`;
        if (value === undefined) return [{ path, message: `is required; must be ${expected}` }];
        return [{ path, message: `must be ${expected}; got ${JSON.stringify(value)}` }];
      }
      case 'invalid_type':
        if (value === undefined) return [{ path, message: 'is required' }];
        // Keep the schema's own wording where it has one; replace zod's generic one.
        if (!issue.message.startsWith('Invalid input')) return [{ path, message: issue.message }];
        return [{ path, message: `must be ${TYPE_NAMES[issue.expected] ?? issue.expected}; got ${describe(value)}` }];
      default:
        return [{ path, message: issue.message }];
    }
  });
}
