import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { unsupportedNode } from '../../bin/node-version.mjs';
import { freePort } from '../../scripts/local-services.ts';
import { COMMANDS, commandHelp } from '../../src/cli/commands.ts';

const CLI = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
/** The entry the `rotator` command and the image run: checks the Node.js version, then runs the CLI. */
const ENTRY = fileURLToPath(new URL('../../bin/rotator.mjs', import.meta.url));
const EXAMPLE = fileURLToPath(new URL('../../examples/inventory.yaml', import.meta.url));
const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

function rotator(args: string[], env: Record<string, string | undefined> = {}, node = process.execPath, entry = CLI) {
  const merged: Record<string, string> = {};
  for (const [name, value] of Object.entries({ ...process.env, ...env })) if (value !== undefined) merged[name] = value;
  const result = spawnSync(node, [entry, ...args], { env: merged, encoding: 'utf8', timeout: 30_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/**
 * A Node.js older than the rotator supports: ROTATOR_TEST_OLD_NODE, else the first `node` on the
 * PATH or in /usr/bin and /usr/local/bin that is too old (this project's machines carry the
 * distribution's Node 20 there, beside the project's own Node 24 in node_modules/.bin).
 */
function oldNode(): { path: string; version: string } {
  const onPath = (process.env.PATH ?? '').split(':').map((dir) => `${dir}/node`);
  const candidates = [process.env.ROTATOR_TEST_OLD_NODE, ...onPath, '/usr/bin/node', '/usr/local/bin/node'].filter((p): p is string => !!p && existsSync(p));
  for (const path of candidates) {
    const version = spawnSync(path, ['--version'], { encoding: 'utf8' }).stdout?.trim().replace(/^v/, '');
    if (version && unsupportedNode(version)) return { path, version };
  }
  throw new Error(`no Node.js older than 22.18 found (looked at ${candidates.join(', ')}): set ROTATOR_TEST_OLD_NODE to one`);
}

/** The single JSON object a `--json` run prints on stdout. */
function jsonOf(stdout: string): Record<string, unknown> {
  const lines = stdout.trim().split('\n');
  expect(lines).toHaveLength(1);
  return JSON.parse(lines[0]!) as Record<string, unknown>;
}

describe('CLI conventions', () => {
  it('prints its version from package.json with --version (and as JSON with --json)', () => {
    const plain = rotator(['--version']);
    expect(plain).toMatchObject({ code: 0, stdout: `${version}\n`, stderr: '' });
    expect(jsonOf(rotator(['--version', '--json']).stdout)).toEqual({ version });
  });

  it('prints the usage on stderr and exits 2 when no command is given; --help prints it on stdout and exits 0', () => {
    const bare = rotator([]);
    expect(bare.code).toBe(2);
    expect(bare.stdout).toBe('');
    expect(bare.stderr).toContain('usage: rotator <command>');
    expect(bare.stderr).toContain('no command given');
    const help = rotator(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('usage: rotator <command>');
    expect(help.stderr).toBe('');
  });

  it('with --json prints usage errors as one JSON object, exit 2', () => {
    for (const args of [['--json'], ['frobnicate', '--json'], ['status', '--json', '--no-such-option'], ['trigger', '--json']]) {
      const run = rotator(args);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stderr, args.join(' ')).toBe('');
      expect(jsonOf(run.stdout)).toMatchObject({ ok: false, error: { type: 'UsageError', message: expect.any(String) } });
    }
  });

  it('with --json prints configuration errors with their problems, exit 2', () => {
    const run = rotator(['status', '--json', '--config', EXAMPLE], { REDIS_URL: 'http://not-redis' });
    expect(run.code).toBe(2);
    expect(jsonOf(run.stdout)).toMatchObject({
      ok: false,
      error: { type: 'ConfigError' },
      problems: [{ path: 'REDIS_URL', message: 'must be a redis:// or rediss:// URL' }],
    });
  });

  it('with --json prints a runtime error (Redis unreachable) as JSON naming the cause and the address, without the password, exit 1; as one line of text without --json', async () => {
    const port = await freePort(); // nothing listens there
    const env = { REDIS_URL: `redis://rotator:hunter2-secret@127.0.0.1:${port}` };
    const json = rotator(['status', '--json', '--config', EXAMPLE], env);
    expect(json.code).toBe(1);
    expect(json.stderr).toBe('');
    const body = jsonOf(json.stdout);
    expect(body).toEqual({
      ok: false,
      error: { type: 'RedisUnreachableError', message: `Redis unreachable at redis://127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}` },
    });
    expect(json.stdout).not.toContain('hunter2-secret');
    const text = rotator(['trigger', 'credly-main', '--config', EXAMPLE], env);
    expect(text.code).toBe(1);
    expect(text.stdout).toBe('');
    expect(text.stderr).toBe(`rotator: Redis unreachable at redis://127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}\n`);
    // check prints it as its Redis line, exit 1.
    const check = rotator(['check', '--config', EXAMPLE], env);
    expect(check.stdout).toContain(`redis: FAILED — Redis unreachable at redis://127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}`);
    expect(check.stdout + check.stderr).not.toContain('hunter2-secret');
  }, 60_000);

  it('names every sentinel with its refusal, and a refused login without its password', async () => {
    const [a, b] = [await freePort(), await freePort()];
    const sentinels = rotator(['status', '--config', EXAMPLE], {
      REDIS_URL: undefined,
      REDIS_SENTINELS: `127.0.0.1:${a},127.0.0.1:${b}`,
      REDIS_SENTINEL_NAME: 'main',
      REDIS_PASSWORD: 'sentinel-data-secret',
    });
    expect(sentinels.code).toBe(1);
    expect(sentinels.stderr).toBe(
      `rotator: Redis unreachable at sentinel master "main" via 127.0.0.1:${a},127.0.0.1:${b}: 127.0.0.1:${a} ECONNREFUSED, 127.0.0.1:${b} ECONNREFUSED\n`,
    );
    // The suite's Redis knows no user "nobody": it refuses the login, and says so.
    const { hostname: host, port } = new URL(process.env.REDIS_URL!);
    const refused = rotator(['status', '--json', '--config', EXAMPLE], { REDIS_URL: `redis://nobody:login-secret-42@${host}:${port}` });
    expect(refused.code, refused.stdout).toBe(1);
    expect(jsonOf(refused.stdout)).toEqual({
      ok: false,
      error: {
        type: 'RedisUnreachableError',
        message: `Redis unreachable at redis://${host}:${port}: WRONGPASS invalid username-password pair or user is disabled.`,
      },
    });
    expect(refused.stdout).not.toContain('login-secret-42');
  }, 60_000);

  it("prints a command's own help for <command> --help, -h and help <command>, on stdout, exit 0", () => {
    for (const { name } of COMMANDS) {
      const help = rotator([name, '--help']);
      expect(help, name).toMatchObject({ code: 0, stderr: '', stdout: `${commandHelp(name)}\n` });
      expect(help.stdout.split('\n')[0]).toMatch(new RegExp(`^usage: rotator ${name}\\b`));
    }
    // `help <command>` and -h print the same; every command's help is spawned above, so two suffice here.
    expect(rotator(['help', 'trigger']).stdout).toBe(`${commandHelp('trigger')}\n`);
    expect(rotator(['check', 'x', '-h']).stdout).toBe(`${commandHelp('check')}\n`);
    const global = rotator(['help']);
    expect(global.code).toBe(0);
    expect(global.stdout).toBe(rotator(['--help']).stdout);
    for (const { name } of COMMANDS) expect(global.stdout).toMatch(new RegExp(`^  ${name}\\b`, 'm'));
    const unknown = rotator(['help', 'frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^rotator: unknown command "frobnicate"/);
  }, 120_000);

  it("refuses another command's option or an unknown one before anything runs: exit 2, naming the option and the command", () => {
    const run = rotator(['check', '--config-only', '--force', '--allow-writes', '--config', EXAMPLE]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr.split('\n')[0]).toBe(
      'rotator: --force is not an option of rotator check (it is an option of rotator trigger); rotator check takes --config-only, --config, --json, --help',
    );
    // followed by the command's own help, not the global one
    expect(run.stderr).toContain(commandHelp('check'));
    const json = rotator(['status', '--json', '--timeout', '5', '--config', EXAMPLE]);
    expect(json.code).toBe(2);
    expect(json.stderr).toBe('');
    expect(jsonOf(json.stdout)).toEqual({
      ok: false,
      error: {
        type: 'UsageError',
        message: '--timeout is not an option of rotator status (it is an option of rotator trigger); rotator status takes --config, --json, --help',
      },
    });
    const worker = rotator(['worker', '--frobnicate', '--config', EXAMPLE]);
    expect(worker.code).toBe(2);
    expect(worker.stderr.split('\n')[0]).toBe(
      'rotator: --frobnicate is not an option of rotator worker (no command has it); rotator worker takes --config, --help',
    );
    const timeoutAlone = rotator(['trigger', 'credly-main', '--timeout', '5', '--config', EXAMPLE]);
    expect(timeoutAlone.code).toBe(2);
    expect(timeoutAlone.stderr.split('\n')[0]).toBe('rotator: --timeout applies only with --wait');
  });

  it('exits 5, not 1, when --wait runs out with the job still running (no worker takes it), as text and as JSON', async () => {
    const prefix = `{cli-wait-${randomUUID().slice(0, 8)}}`;
    const env = { ROTATOR_QUEUE_PREFIX: prefix };
    try {
      const text = rotator(['trigger', 'credly-main', '--wait', '--timeout', '1', '--config', EXAMPLE], env);
      expect(text.code, text.stderr).toBe(5);
      expect(text.stdout).toBe('');
      expect(text.stderr).toMatch(/^credly-main: RUNNING — still running after 1s; follow it with rotator status \(job \S+\)\n$/);
      const json = rotator(['trigger', 'credly-main', '--wait', '--timeout', '1', '--json', '--config', EXAMPLE], env);
      expect(json.code).toBe(5);
      expect(jsonOf(json.stdout)).toMatchObject({
        credentialId: 'credly-main',
        state: 'running',
        error: 'still running after 1s; follow it with rotator status',
      });
    } finally {
      const redis = new Redis(process.env.REDIS_URL!);
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length) await redis.del(...keys);
      redis.disconnect();
    }
  });

  it('on a Node.js older than it supports, the entry prints one line naming the version found and the one needed, exit 2 (as JSON with --json)', () => {
    const old = oldNode();
    const text = rotator(['status', '--config', EXAMPLE], {}, old.path, ENTRY);
    expect(text).toEqual({
      code: 2,
      stdout: '',
      stderr: `rotator: Node.js ${old.version} is not supported: the rotator needs Node.js ^22.18.0 || >=23.6.0 (24 LTS recommended), which runs its TypeScript directly\n`,
    });
    const json = rotator(['--json', 'status'], {}, old.path, ENTRY);
    expect(json.code).toBe(2);
    expect(jsonOf(json.stdout)).toEqual({ ok: false, error: { type: 'UnsupportedNodeError', message: unsupportedNode(old.version) } });
    // The same entry on the project's Node runs the CLI.
    expect(rotator(['--version'], {}, process.execPath, ENTRY)).toMatchObject({ code: 0, stdout: `${version}\n` });
  });
});
