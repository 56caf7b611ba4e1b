import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';
import { EXIT, UsageError } from './exit-codes.ts';

/**
 * The command line: each command with its own options, help and exit codes, and the parsing that
 * binds every option to its command. Nothing here reads a file or the environment.
 */

interface OptionSpec {
  readonly type: 'boolean' | 'string';
  readonly short?: string;
  /** The value's placeholder in the help, for a string option. */
  readonly value?: string;
  readonly help: string;
}

const OPTIONS = {
  'config-only': { type: 'boolean', help: 'validate the configuration only (touches nothing)' },
  'allow-writes': { type: 'boolean', help: 'also create, delete and re-list one throwaway token or OAuth application' },
  force: { type: 'boolean', help: "rotate even when not due (refused while the secret's current version is younger than the credential's forceCooldown)" },
  wait: { type: 'boolean', help: "wait for the job's end and exit with its outcome" },
  actor: { type: 'string', value: '<name>', help: 'who asks, recorded with the rotation (default: $ROTATOR_ACTOR, else <os user>@<host name>)' },
  reason: { type: 'string', value: '<text>', help: 'why, recorded with the rotation (one line, at most 500 characters)' },
  within: { type: 'string', value: '<duration>', help: 'the warning window, e.g. 30d or 12h (default: radar.warnWithin in the inventory, itself 30d)' },
  limit: { type: 'string', value: '<n>', help: 'at most this many entries, the newest' },
  timeout: { type: 'string', value: '<seconds>', help: `how long --wait waits (default 300); exit ${EXIT.timedOut} when it runs out` },
  config: { type: 'string', value: '<path>', help: 'inventory file (default: $ROTATOR_CONFIG)' },
  json: { type: 'boolean', help: 'machine-readable output (errors too, as {"ok":false,"error":…})' },
  version: { type: 'boolean', help: "the rotator's version (with --json: as JSON)" },
  help: { type: 'boolean', short: 'h', help: 'this help' },
} as const satisfies Record<string, OptionSpec>;

export type OptionName = keyof typeof OPTIONS;

const EXIT_USAGE_LINE = 'bad usage or configuration (nothing was touched)';

interface CommandSpec {
  readonly name: string;
  /** The positional arguments, as the usage line shows them. */
  readonly args: string;
  /** One line for the global help. */
  readonly summary: string;
  /** What the command does, for its own help. */
  readonly description: string;
  readonly options: readonly OptionName[];
  readonly exits: readonly (readonly [code: number, meaning: string])[];
}

export const COMMANDS: readonly CommandSpec[] = [
  {
    name: 'worker',
    args: '',
    summary: 'run the worker until SIGTERM/SIGINT',
    description: 'Runs the worker until SIGTERM or SIGINT, then lets running jobs finish within ROTATOR_SHUTDOWN_GRACE.',
    options: ['config', 'help'],
    exits: [
      [EXIT.ok, 'stopped cleanly: every running job ended within the grace'],
      [EXIT.failure, 'could not start, or crashed'],
      [EXIT.usage, EXIT_USAGE_LINE],
      [EXIT.abandoned, 'the grace ran out with jobs still running (taken up again once their locks expire)'],
    ],
  },
  {
    name: 'check',
    args: '[<credential-id>…]',
    summary: 'read-only preflight: configuration, Redis, each secret',
    description: 'Read-only preflight: the configuration, Redis, and each secret readable and well-formed (a Credly token looked up at Credly).',
    options: ['config-only', 'config', 'json', 'help'],
    exits: [
      [EXIT.ok, 'every check passed'],
      [EXIT.failure, 'a check failed'],
      [EXIT.usage, EXIT_USAGE_LINE],
    ],
  },
  {
    name: 'probe',
    args: '<credential-id>…',
    summary: 'call the provider and report what holds, and the inventory settings to use',
    description: 'Calls the provider and reports, assumption by assumption, what holds; ends with the inventory settings to use. Read-only.',
    options: ['allow-writes', 'config', 'json', 'help'],
    exits: [
      [EXIT.ok, 'every assumption the inventory relies on was checked and holds'],
      [EXIT.failure, 'an assumption does not hold, or something it created is left at the provider'],
      [EXIT.usage, `${EXIT_USAGE_LINE}; also --allow-writes on a credential whose throwaway it could not delete`],
      [EXIT.incomplete, 'incomplete: nothing failed, but assumptions were not checked (run with --allow-writes)'],
    ],
  },
  {
    name: 'status',
    args: '[<credential-id>…]',
    summary: "each credential's state, last result, expiry and next run; queue counts",
    description: "Each credential's state, last result and check, days to expiry, next run and credentials NOT revoked; queue counts. Read-only.",
    options: ['config', 'json', 'help'],
    exits: [
      [EXIT.ok, 'the status was read'],
      [EXIT.failure, 'failure (Redis unreachable, say)'],
      [EXIT.usage, EXIT_USAGE_LINE],
    ],
  },
  {
    name: 'radar',
    args: '',
    summary: 'every token and OAuth application of each Credly organization, and who manages it',
    description:
      'Lists every authorization token and OAuth application of each Credly organization the inventory reaches, with the credentials it already holds, ' +
      'each with the inventory credential that manages it (or none), and names the unmanaged tokens that expire within the window. Read-only.',
    options: ['within', 'config', 'json', 'help'],
    exits: [
      [EXIT.ok, 'no unmanaged token expires within the window'],
      [EXIT.failure, 'an unmanaged token expires within the window, or an organization could not be listed'],
      [EXIT.usage, EXIT_USAGE_LINE],
    ],
  },
  {
    name: 'trigger',
    args: '<credential-id>',
    summary: 'enqueue a manual check (a token is rotated when due)',
    description: 'Enqueues a manual check of one credential: a Credly token is rotated when it is due (at once with --force).',
    options: ['force', 'actor', 'reason', 'wait', 'timeout', 'config', 'json', 'help'],
    exits: [
      [EXIT.ok, 'queued; with --wait: rotated, checked or skipped as not due'],
      [EXIT.failure, 'failure: the job failed, a forced rotation was refused inside the cooldown (saying when it becomes possible), or Redis unreachable'],
      [EXIT.usage, EXIT_USAGE_LINE],
      [EXIT.timedOut, '--wait ran out with the job still running (it goes on: follow it with rotator status)'],
    ],
  },
  {
    name: 'history',
    args: '<credential-id>',
    summary: "a credential's rotations, from Secrets Manager (works with an empty Redis)",
    description:
      "A credential's rotations, newest first: when, which rotation, its trigger, who asked and why, the credential it made and the one it replaced, and whether that one is revoked. Rebuilt from the facts each rotation writes into its Secrets Manager version and the provider's listing, so an emptied Redis loses none of it; Secrets Manager keeps a bounded number of versions, older rotations are in the audit log. Read-only; never a secret value.",
    options: ['limit', 'config', 'json', 'help'],
    exits: [
      [EXIT.ok, 'the history was read'],
      [EXIT.failure, 'failure (Secrets Manager unreachable or refusing, say)'],
      [EXIT.usage, `${EXIT_USAGE_LINE}; also a credential of a kind that is validated, never rotated`],
    ],
  },
  {
    name: 'help',
    args: '[<command>]',
    summary: "this help, or a command's",
    description: "Prints this help, or a command's own.",
    options: ['help'],
    exits: [
      [EXIT.ok, 'the help was printed'],
      [EXIT.usage, 'an unknown command'],
    ],
  },
];

/** What `rotator` takes without a command. */
const TOP_LEVEL: readonly OptionName[] = ['help', 'version', 'json'];

/** Every exit code, for the global help. */
const EXIT_CODES: readonly (readonly [code: number, meaning: string])[] = [
  [EXIT.ok, 'success'],
  [EXIT.failure, 'failure'],
  [EXIT.usage, 'bad usage or configuration, an unsupported Node.js included (nothing was touched)'],
  [EXIT.incomplete, 'probe: incomplete, assumptions not checked'],
  [EXIT.abandoned, 'worker: the stop abandoned running jobs'],
  [EXIT.timedOut, 'trigger --wait: the job still running when the timeout ran out'],
];

export function commandNamed(name: string): CommandSpec | undefined {
  return COMMANDS.find((c) => c.name === name);
}

function flag(name: OptionName): string {
  const spec: OptionSpec = OPTIONS[name];
  return `${spec.short ? `-${spec.short}, ` : ''}--${name}${spec.value ? ` ${spec.value}` : ''}`;
}

/** Rows of two columns, the second aligned. */
function columns(rows: readonly (readonly [string, string])[], indent = '  '): string {
  const width = Math.max(...rows.map(([left]) => left.length));
  return rows.map(([left, right]) => `${indent}${left.padEnd(width)}  ${right}`).join('\n');
}

/** The global help: the commands, one line each, the options of `rotator` itself, every exit code. */
export function globalHelp(): string {
  return [
    'usage: rotator <command> [options]',
    '',
    'commands:',
    columns(COMMANDS.map((c) => [`${c.name}${c.args ? ` ${c.args}` : ''}`, c.summary])),
    '',
    "options (a command's own: rotator <command> --help, or rotator help <command>):",
    columns([
      ['-h, --help', 'this help'],
      ['--version', OPTIONS.version.help],
    ]),
    '',
    'exit codes:',
    columns(EXIT_CODES.map(([code, meaning]) => [String(code), meaning])),
  ].join('\n');
}

/** A command's own help: its usage, what it does, its options (one line each) and its exit codes. */
export function commandHelp(name: string): string {
  const command = commandNamed(name);
  if (!command) throw new UsageError(`unknown command "${name}"; the commands: ${COMMANDS.map((c) => c.name).join(', ')}`);
  const options = command.options.map((o): [string, string] => [flag(o), o === 'help' ? 'this help' : OPTIONS[o].help]);
  return [
    `usage: rotator ${command.name}${command.args ? ` ${command.args}` : ''} [options]`,
    '',
    command.description,
    '',
    'options:',
    columns(options),
    '',
    'exit codes:',
    columns(command.exits.map(([code, meaning]) => [String(code), meaning])),
  ].join('\n');
}

/** The options one command was given, typed. */
export interface CommandValues {
  config?: string;
  json?: boolean;
  'config-only'?: boolean;
  'allow-writes'?: boolean;
  force?: boolean;
  wait?: boolean;
  timeout?: string;
  within?: string;
  actor?: string;
  reason?: string;
  limit?: string;
}

/** What a command line asks for. */
export type CommandLine =
  { action: 'help'; command?: string } | { action: 'version'; json: boolean } | { action: 'run'; command: string; args: string[]; values: CommandValues };

const ALL = Object.keys(OPTIONS) as OptionName[];

function parseOptions(names: readonly OptionName[]): ParseArgsOptionsConfig {
  return Object.fromEntries(
    names.map((n) => {
      const spec: OptionSpec = OPTIONS[n];
      return [n, spec.short ? { type: spec.type, short: spec.short } : { type: spec.type }];
    }),
  );
}

function isOptionName(name: string): name is OptionName {
  return Object.hasOwn(OPTIONS, name);
}

/**
 * Reads `rotator`'s arguments. Every option must be one of its command's (or, without a command,
 * of `rotator` itself); any other is a UsageError naming the option and the command, and the
 * command whose option it is.
 */
export function parseCommandLine(argv: readonly string[]): CommandLine {
  // First every option any command knows, so that a string option's value is not taken for the command.
  const { tokens = [] } = parseArgs({ args: [...argv], allowPositionals: true, strict: false, tokens: true, options: parseOptions(ALL) });
  const name = tokens.find((t) => t.kind === 'positional')?.value;
  const command = name === undefined ? undefined : commandNamed(name);
  if (name !== undefined && !command) throw new UsageError(`unknown command "${name}"; the commands: ${COMMANDS.map((c) => c.name).join(', ')}`);
  const allowed = command ? command.options : TOP_LEVEL;
  const where = command ? `rotator ${command.name}` : 'rotator without a command';
  for (const token of tokens) {
    if (token.kind !== 'option' || (isOptionName(token.name) && allowed.includes(token.name))) continue;
    const owners = COMMANDS.filter((c) => (c.options as readonly string[]).includes(token.name)).map((c) => c.name);
    const belongs = owners.length ? `it is an option of ${owners.map((o) => `rotator ${o}`).join(', ')}` : 'no command has it';
    const takes = allowed.map((o) => `--${o}`).join(', ');
    throw new UsageError(`${token.rawName} is not an option of ${where} (${belongs}); ${where} takes ${takes}`, command?.name);
  }
  // Then the command's own options, strictly: a missing value or a value given to a flag is refused.
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], allowPositionals: true, strict: true, options: parseOptions(allowed) });
  } catch (error) {
    throw new UsageError(`${where}: ${(error as Error).message}`, command?.name);
  }
  const values = parsed.values as CommandValues & { help?: boolean; version?: boolean };
  const args = parsed.positionals.slice(1);
  if (values.help) return command ? { action: 'help', command: command.name } : { action: 'help' };
  if (!command) {
    if (values.version) return { action: 'version', json: values.json === true };
    throw new UsageError('no command given');
  }
  if (command.name === 'help') {
    if (args.length > 1) throw new UsageError(`rotator help takes at most one command (got ${args.join(' ')})`, 'help');
    if (args[0] !== undefined) commandHelp(args[0]); // an unknown command is a UsageError
    return args[0] === undefined ? { action: 'help' } : { action: 'help', command: args[0] };
  }
  return { action: 'run', command: command.name, args, values };
}
