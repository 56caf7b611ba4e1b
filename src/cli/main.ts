import { SinkSecretError } from '../alerts/build-sinks.ts';
import { packageVersion } from '../build-info.ts';
import { ConfigError } from '../config/index.ts';
import { RedisUnreachableError } from './connect-redis.ts';
import { commandHelp, globalHelp, parseCommandLine } from './commands.ts';
import { EXIT, UsageError } from './exit-codes.ts';
import { parseLimit, parseTimeout } from './timeout.ts';

/** The command being run, once known: a usage error is printed with its help. */
let current: string | undefined;

async function run(argv: string[]): Promise<number> {
  const line = parseCommandLine(argv);
  if (line.action === 'version') {
    console.log(line.json ? JSON.stringify({ version: packageVersion() }) : packageVersion());
    return EXIT.ok;
  }
  if (line.action === 'help') {
    console.log(line.command ? commandHelp(line.command) : globalHelp());
    return EXIT.ok;
  }
  const { command, args, values } = line;
  current = command;
  // Each command loads only what it uses: `rotator status` need not load the AWS SDK or the worker.
  switch (command) {
    case 'worker': {
      if (args.length) throw new UsageError(`worker takes no arguments (got ${args.join(' ')})`);
      const { workerCommand } = await import('./worker.command.ts');
      return workerCommand({ configPath: values.config });
    }
    case 'check': {
      const { checkCommand } = await import('./check.command.ts');
      return checkCommand({ configPath: values.config, ids: args, configOnly: values['config-only'] === true, json: values.json === true });
    }
    case 'probe': {
      const { probeCommand } = await import('./probe.command.ts');
      return probeCommand({ configPath: values.config, ids: args, allowWrites: values['allow-writes'] === true, json: values.json === true });
    }
    case 'status': {
      const { statusCommand } = await import('./status.command.ts');
      return statusCommand({ configPath: values.config, ids: args, json: values.json === true });
    }
    case 'radar': {
      if (args.length) throw new UsageError(`radar takes no arguments (got ${args.join(' ')})`);
      const { radarCommand } = await import('./radar.command.ts');
      return radarCommand({ configPath: values.config, within: values.within, json: values.json === true });
    }
    case 'history': {
      const [credentialId, ...extra] = args;
      if (!credentialId || extra.length) throw new UsageError('history takes exactly one credential id');
      const limit = parseLimit(values.limit);
      const { historyCommand } = await import('./history.command.ts');
      return historyCommand({ configPath: values.config, credentialId, limit, json: values.json === true });
    }
    case 'trigger': {
      const [credentialId, ...extra] = args;
      if (!credentialId || extra.length) throw new UsageError('trigger takes exactly one credential id');
      if (values.timeout !== undefined && !values.wait) throw new UsageError('--timeout applies only with --wait');
      const timeoutSeconds = parseTimeout(values.timeout);
      const { triggerCommand } = await import('./trigger.command.ts');
      return triggerCommand({
        configPath: values.config,
        credentialId,
        force: values.force === true,
        actor: values.actor,
        reason: values.reason,
        wait: values.wait === true,
        timeoutSeconds,
        json: values.json === true,
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
  if (error instanceof UsageError) {
    const command = error.command ?? current;
    return { code: EXIT.usage, error: { type: 'UsageError', message }, text: `rotator: ${message}\n\n${command ? commandHelp(command) : globalHelp()}` };
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
