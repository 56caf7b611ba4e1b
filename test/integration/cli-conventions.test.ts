import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/local-services.ts';

const CLI = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const EXAMPLE = fileURLToPath(new URL('../../examples/inventory.yaml', import.meta.url));
const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

function rotator(args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 30_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
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

  it('with --json prints a runtime error (Redis unreachable) as JSON without the password, exit 1; as text without --json', async () => {
    const port = await freePort(); // nothing listens there
    const env = { REDIS_URL: `redis://rotator:hunter2-secret@127.0.0.1:${port}` };
    const json = rotator(['status', '--json', '--config', EXAMPLE], env);
    expect(json.code).toBe(1);
    expect(json.stderr).toBe('');
    const body = jsonOf(json.stdout);
    expect(body).toMatchObject({
      ok: false,
      error: { type: 'RedisUnreachableError', message: expect.stringContaining(`Redis unreachable at redis://127.0.0.1:${port}`) },
    });
    expect(json.stdout).not.toContain('hunter2-secret');
    const text = rotator(['trigger', 'credly-main', '--config', EXAMPLE], env);
    expect(text.code).toBe(1);
    expect(text.stdout).toBe('');
    expect(text.stderr).toMatch(new RegExp(`^rotator: Redis unreachable at redis://127\\.0\\.0\\.1:${port}`));
    expect(text.stderr).not.toContain('hunter2-secret');
  });
});
