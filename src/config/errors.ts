import { RotatorError } from '../errors/rotator-error.ts';

/** One problem in the configuration, by its path in the file (`credentials[2].scopes[0]`). */
export interface ConfigProblem {
  /** Dots and brackets (`credentials[2].scopes`), `(root)` for the document, the variable name for the environment. */
  path: string;
  /** What is wrong. Never a secret value: these lines are printed and may be logged. */
  message: string;
}

/**
 * The configuration is unusable. Carries every problem found, not only the first, so one run
 * of `rotator check --config-only` lists everything to fix. Permanent: a retry reads the same file.
 */
export class ConfigError extends RotatorError {
  readonly problems: ConfigProblem[];
  /** Where the configuration came from: a file path, `environment`, or the name given to parseInventory. */
  readonly source: string;

  constructor(source: string, problems: ConfigProblem[], options: { cause?: unknown } = {}) {
    super(`${source}: ${problems.length} configuration problem(s): ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`, {
      cause: options.cause,
      permanent: true,
    });
    this.source = source;
    this.problems = problems;
  }

  /** One line per problem, `<source>: <path>: <message>`, for people. */
  format(): string {
    return this.problems.map((p) => `${this.source}: ${p.path}: ${p.message}`).join('\n');
  }
}

/** `['credentials', 2, 'scopes', 0]` → `credentials[2].scopes[0]`; the empty path is `(root)`. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out || '(root)';
}
