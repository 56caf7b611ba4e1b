import { parseArgs } from 'node:util';
import { SinkSecretError } from '../alerts/build-sinks.ts';
import { packageVersion } from '../build-info.ts';
import { ConfigError } from '../config/index.ts';
import { RedisUnreachableError } from './connect-redis.ts';
import { EXIT, UsageError } from './exit-codes.ts';
import { parseTimeout } from './timeout.ts';

const USAGE = `usage: rotator <command> [options]

commands:
  worker                         run the worker until SIGTERM/SIGINT
  check [<credential-id>…]       read-only preflight: configuration, Redis, each secret
      --config-only              validate the configuration only (touches nothing)
  probe <credential-id>…         call the provider and report, assumption by assumption, what holds;
                                 ends with the inventory settings to use (read-only)
      --allow-writes             also create and delete one throwaway token or application
  status [<credential-id>…]      each credential's state, last result, expiry and next run; queue counts
  trigger <credential-id>        enqueue a manual check (a token is rotated when due)
      --force                    rotate even when not due (refused while the secret's current
                                 version is younger than the credential's forceCooldown)
      --wait                     wait for the job's end and exit with its outcome
      --timeout <seconds>        how long --wait waits (default 300)

options:
  --config <path>                inventory file (default: $ROTATOR_CONFIG)
  --json                         machine-readable output (errors too, as {"ok":false,"error":…})
  -h, --help                     this help
  --version                      the rotator's version

exit codes: 0 success, 1 failure, 2 bad usage or configuration,
            4 (worker) stopped with jobs abandoned when the grace ran out`;

async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      config: { type: 'string' },
      json: { type: 'boolean', default: false },
      'config-only': { type: 'boolean', default: false },
      force: { type: 'boolean', default: false },
      wait: { type: 'boolean', default: false },
      timeout: { type: 'string' },
      'allow-writes': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
      version: { type: 'boolean', default: false },
    },
  });
  const [command, ...rest] = positionals;
  if (values.version) {
    console.log(values.json ? JSON.stringify({ version: packageVersion() }) : packageVersion());
    return EXIT.ok;
  }
  if (values.help) {
    console.log(USAGE);
    return EXIT.ok;
  }
  // No command is bad usage: the usage goes to stderr, so a script piping stdout gets nothing half-right.
  if (!command) throw new UsageError('no command given');
  // Each command loads only what it uses: `rotator status` need not load the AWS SDK or the worker.
  switch (command) {
    case 'worker': {
      if (rest.length) throw new UsageError(`worker takes no arguments (got ${rest.join(' ')})`);
      const { workerCommand } = await import('./worker.command.ts');
      return workerCommand({ configPath: values.config });
    }
    case 'check': {
      const { checkCommand } = await import('./check.command.ts');
      return checkCommand({ configPath: values.config, ids: rest, configOnly: values['config-only'], json: values.json });
    }
    case 'probe': {
      const { probeCommand } = await import('./probe.command.ts');
      return probeCommand({ configPath: values.config, ids: rest, allowWrites: values['allow-writes'], json: values.json });
    }
    case 'status': {
      const { statusCommand } = await import('./status.command.ts');
      return statusCommand({ configPath: values.config, ids: rest, json: values.json });
    }
    case 'trigger': {
      const [credentialId, ...extra] = rest;
      if (!credentialId || extra.length) throw new UsageError('trigger takes exactly one credential id');
      const timeoutSeconds = parseTimeout(values.timeout);
      const { triggerCommand } = await import('./trigger.command.ts');
      return triggerCommand({
        configPath: values.config,
        credentialId,
        force: values.force,
        wait: values.wait,
        timeoutSeconds,
        json: values.json,
      });
    }
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

/** What went wrong, as the CLI reports it: the exit code, the problems, and the text for a terminal. */
function describe(error: unknown): { code: number; error: { type: string; message: string }; problems?: unknown; text: string } {
  if (error instanceof ConfigError) {
    return { code: EXIT.usage, error: { type: error.name, message: error.message }, problems: error.problems, text: error.format() };
  }
  const type = error instanceof Error ? error.name : 'Error';
  const message = error instanceof Error ? error.message : String(error);
  // A sink secret that cannot be had is configuration: nothing was touched.
  if (error instanceof SinkSecretError) return { code: EXIT.usage, error: { type, message }, text: `rotator: ${message}` };
  if (error instanceof UsageError || (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS'))) {
    return { code: EXIT.usage, error: { type: 'UsageError', message }, text: `rotator: ${message}\n\n${USAGE}` };
  }
  if (error instanceof RedisUnreachableError) return { code: EXIT.failure, error: { type, message }, text: `rotator: ${message}` };
  return { code: EXIT.failure, error: { type, message }, text: `rotator: ${type}: ${message}` };
}

/** Every error ends here: one JSON object on stdout with --json, else text on stderr. */
function report(error: unknown, json: boolean): number {
  const { code, text, ...rest } = describe(error);
  if (json) console.log(JSON.stringify({ ok: false, ...rest }));
  else console.error(text);
  return code;
}

const json = process.argv.includes('--json');
process.exitCode = await run(process.argv.slice(2)).catch((error: unknown) => report(error, json));
