import { randomUUID } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSecretStore, createSecretsManagerClient } from '../../src/secrets/secret-store.ts';
import { startExampleFake, type ExampleFake } from '../fakes/example.fake.ts';
import { dumpRedis } from '../support/redis-dump.ts';
import { copyRepository, filesUnder, lineDiff, REPOSITORY, runTool } from '../support/repository-copy.ts';
import { spawnRotator, type RotatorProcess } from '../support/worker-process.ts';

/**
 * docs/adding-a-kind.md, done for real: on a copy of the repository the test-only kind of
 * test/fixtures/example-kind/ becomes src/kinds/example/ and gets one import and one entry in
 * src/kinds/registry.ts — nothing else changes. The copy must type-check and lint, and its own CLI
 * must then validate the inventory (a bad entry named by its path), run the kind in a worker
 * against a fake provider, and show it in status, with the key in no log and nowhere in Redis.
 */

const FIXTURE = join(REPOSITORY, 'test/fixtures/example-kind');
const KIND_FOLDER = 'src/kinds/example';
const REGISTRY = 'src/kinds/registry.ts';
const IMPORT = "import { exampleApiKey } from './example/index.ts';";

const copy = mkdtempSync(join(tmpdir(), 'rotator-new-kind-'));
const cli = join(copy, 'src/cli/main.ts');
const store = createSecretStore(createSecretsManagerClient());
// Every process this file starts, killed at its end whatever happened.
const started: RotatorProcess[] = [];
const track = (p: RotatorProcess) => (started.push(p), p);
const run = randomUUID().slice(0, 8);
let copied: string[] = [];
let fake: ExampleFake;

/** The walkthrough's last step: one import beside the others, one entry at the end of KINDS (on one line or one per line). */
function register(registry: string): string {
  const lines = registry.split('\n');
  const lastImport = lines.findLastIndex((l) => l.startsWith('import '));
  lines.splice(lastImport + 1, 0, IMPORT);
  const withImport = lines.join('\n');
  const kinds = /export const KINDS = \[([\s\S]*?)\] as const;/.exec(withImport);
  if (!kinds?.[1]) throw new Error(`${REGISTRY} has no "export const KINDS = [...] as const;"`);
  const entries = kinds[1];
  const added = entries.includes('\n') ? `${entries.replace(/\s*$/, '')}\n  exampleApiKey,\n` : `${entries}, exampleApiKey`;
  return withImport.replace(kinds[0], `export const KINDS = [${added}] as const;`);
}

beforeAll(async () => {
  copied = await copyRepository(copy);
  cpSync(FIXTURE, join(copy, KIND_FOLDER), { recursive: true });
  writeFileSync(join(copy, REGISTRY), register(readFileSync(join(REPOSITORY, REGISTRY), 'utf8')));
  fake = await startExampleFake();
}, 60_000);
afterAll(async () => {
  for (const p of started) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  await Promise.all(started.map((p) => p.exited));
  await fake?.close();
  rmSync(copy, { recursive: true, force: true });
});

describe('adding a credential kind as docs/adding-a-kind.md says', () => {
  it('is one folder and one registry entry: the copy differs from the repository by nothing else', async () => {
    const fixtureFiles = readdirSync(FIXTURE).sort();
    expect(fixtureFiles).toEqual(['index.ts', 'probe.ts', 'schema.ts', 'validator.ts']);
    const now = filesUnder(copy).sort();
    expect(now).toEqual([...copied, ...fixtureFiles.map((f) => `${KIND_FOLDER}/${f}`)].sort());
    const changed = copied.filter((f) => !readFileSync(join(copy, f)).equals(readFileSync(join(REPOSITORY, f))));
    expect(changed).toEqual([REGISTRY]);

    const { added, removed } = await lineDiff(join(REPOSITORY, REGISTRY), join(copy, REGISTRY));
    expect(added).toContain(IMPORT);
    // The entry: either the KINDS line with `, exampleApiKey` added, or a line of its own.
    const entry = added.filter((l) => l !== IMPORT);
    expect(entry.map((l) => l.replace(/(, exampleApiKey(?=\]))|(^\s*exampleApiKey,$)/, '')).filter((l) => l !== '')).toEqual(removed);
    expect(added.join('\n').match(/exampleApiKey/g)).toHaveLength(2);
    expect(removed.length).toBeLessThanOrEqual(1);
  });

  it("shows in the walkthrough the fixture's own code and the registry line the test adds", () => {
    const doc = readFileSync(join(REPOSITORY, 'docs/adding-a-kind.md'), 'utf8');
    const fixture = readdirSync(FIXTURE)
      .map((f) => readFileSync(join(FIXTURE, f), 'utf8'))
      .join('\n');
    const lines = (text: string) =>
      text
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l !== '' && !l.startsWith('//'));
    const blocks = [...doc.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
    const fromFixture = blocks.filter((b) => /exampleEntry|exampleSecret|exampleApiKey: ValidatedKind/.test(b));
    expect(fromFixture).toHaveLength(4);
    const known = new Set(lines(fixture));
    for (const block of fromFixture)
      for (const line of lines(block)) expect(known.has(line), `docs/adding-a-kind.md shows "${line}", which the fixture does not have`).toBe(true);
    expect(doc).toContain(IMPORT);
  });

  it('type-checks and lints with the project settings', async () => {
    const tsc = await runTool(copy, 'typescript/bin/tsc', ['--noEmit', '-p', 'tsconfig.json']);
    expect(tsc, tsc.output).toMatchObject({ code: 0 });
    // The kind's folder, and the registry that now imports it, under the repository's own rules (the direction rule included).
    const eslint = await runTool(copy, 'eslint/bin/eslint.js', [KIND_FOLDER, REGISTRY]);
    expect(eslint, eslint.output).toMatchObject({ code: 0 });
  }, 120_000);

  describe("the copy's rotator", () => {
    const good = { key: '', id: '', credential: `example-good-${run}`, secretId: `test/example-kind/${run}/good` };
    const revoked = { key: '', id: '', credential: `example-revoked-${run}`, secretId: `test/example-kind/${run}/revoked` };
    const down = { key: '', id: '', credential: `example-down-${run}`, secretId: `test/example-kind/${run}/down` };
    const prefix = `{example-${run}}`;
    const entry = (c: { credential: string; secretId: string }, extra = '') =>
      `  - id: ${c.credential}\n    kind: example-api-key\n    secretId: ${c.secretId}\n    scopes: [badges:read]\n    endpoints: { apiBase: "${fake.apiBase}" }\n${extra}`;
    let env: Record<string, string>;
    const rotator = (args: string[]) => track(spawnRotator(args, env, cli));

    beforeAll(async () => {
      for (const c of [good, revoked, down]) {
        ({ apiKey: c.key, id: c.id } = fake.issueKey(['badges:read', 'badges:write']));
        await store.putCurrent(c.secretId, JSON.stringify({ apiKey: c.key }));
      }
      fake.revokeKey(revoked.key);
      const config = join(copy, 'inventory.yaml');
      writeFileSync(config, `version: 1\ncredentials:\n${[good, revoked, down].map((c) => entry(c)).join('')}`);
      // One retry with a short backoff: enough to see a provider outage retried, not to wait for it.
      env = { ROTATOR_CONFIG: config, ROTATOR_QUEUE_PREFIX: prefix, ROTATOR_JOB_ATTEMPTS: '2', ROTATOR_JOB_BACKOFF: '1s', LOG_LEVEL: 'debug' };
    });

    it('validates an inventory of the kind, and names a bad entry by its path', async () => {
      const ok = rotator(['check', '--config-only', '--json']);
      expect((await ok.exited).code, ok.output()).toBe(0);
      expect(JSON.parse(ok.output())).toEqual({ ok: true, credentials: 3, alerts: 0 });

      const bad = join(copy, 'bad-inventory.yaml');
      const broken = { credential: `example-bad-${run}`, secretId: `test/example-kind/${run}/bad` };
      writeFileSync(
        bad,
        `version: 1\ncredentials:\n${entry(good)}${entry(broken).replace('[badges:read]', '[Badges]').replace(fake.apiBase, 'http://api.example.net')}`,
      );
      const refused = track(spawnRotator(['check', '--config-only', '--json'], { ...env, ROTATOR_CONFIG: bad }, cli));
      expect((await refused.exited).code, refused.output()).toBe(2);
      const answer = JSON.parse(refused.output()) as { ok: boolean; error: { type: string }; problems: Array<{ path: string; message: string }> };
      expect(answer).toMatchObject({ ok: false, error: { type: 'ConfigError' } });
      expect(answer.problems.map((p) => p.path).sort()).toEqual(['credentials[1].endpoints.apiBase', 'credentials[1].scopes[0]']);
      expect(answer.problems.find((p) => p.path === 'credentials[1].scopes[0]')?.message).toContain('must be a scope like badges:read');
    });

    it('checks, probes, triggers in a worker and shows status; the key reaches neither logs nor Redis', async () => {
      const check = rotator(['check', good.credential, '--json']);
      expect((await check.exited).code, check.output()).toBe(0);
      expect(JSON.parse(check.output())).toMatchObject({
        ok: true,
        credentials: [{ id: good.credential, ok: true, detail: `key ${good.id} accepted (scopes badges:read)` }],
      });
      const probe = rotator(['probe', good.credential, '--json']);
      expect((await probe.exited).code, probe.output()).toBe(0);
      expect(probe.output()).toContain('"invalid-key"');

      const worker = rotator(['worker']);
      const { port } = (await worker.waitForLog('ops: listening')) as { port: number };
      await worker.waitForLog('worker: started');
      const trigger = async (id: string) => {
        const p = rotator(['trigger', id, '--wait', '--json', '--timeout', '60']);
        const { code } = await p.exited;
        return { code, output: p.output(), result: JSON.parse(p.output()) as { state: string; outcome?: Record<string, unknown>; error?: string } };
      };

      const valid = await trigger(good.credential);
      expect(valid.code, valid.output).toBe(0);
      expect(valid.result.outcome).toMatchObject({
        status: 'success',
        action: 'validated',
        kind: 'example-api-key',
        summary: `key ${good.id} accepted (scopes badges:read)`,
      });

      const refused = await trigger(revoked.credential);
      expect(refused.code, refused.output).toBe(1);
      expect(refused.result).toMatchObject({ state: 'failed', error: expect.stringContaining('invalid-credential') });
      expect(fake.faults.applied).toEqual([]);

      fake.faults.add({ match: { path: '/v1/whoami' }, times: Infinity, fault: { kind: 'status', status: 503 } });
      const unavailable = await trigger(down.credential);
      fake.faults.clear();
      expect(unavailable.code, unavailable.output).toBe(1);
      expect(unavailable.result).toMatchObject({ state: 'failed', error: expect.stringContaining('provider-unavailable') });

      const status = rotator(['status', '--json']);
      expect((await status.exited).code, status.output()).toBe(0);
      const view = JSON.parse(status.output()) as { credentials: Array<{ id: string; kind: string; state: string; lastResult: string | null }> };
      expect(view.credentials).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ id: good.credential, state: 'ok', lastResult: 'valid' }),
          expect.objectContaining({ id: revoked.credential, state: 'failing', lastResult: 'invalid-credential' }),
          expect.objectContaining({ id: down.credential, state: 'failing', lastResult: 'provider-unavailable' }),
        ]),
      );
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(metrics).toContain(`credential="${good.credential}"`);

      // Every request carried a key, and none of the keys is anywhere the rotator writes.
      expect(fake.requests.length).toBeGreaterThan(4);
      const redis = new Redis(process.env.REDIS_URL!);
      const { keys, text: redisText } = await dumpRedis(redis, `${prefix}*`);
      redis.disconnect();
      expect(keys).toBeGreaterThan(0);
      const places: Record<string, string> = {
        'worker log': worker.output(),
        redis: redisText,
        'status, check, probe': [status, check, probe].map((p) => p.output()).join('\n'),
        triggers: [valid, refused, unavailable].map((t) => t.output).join('\n'),
        metrics,
      };
      expect(worker.output()).toContain('validation: credential works');
      for (const c of [good, revoked, down]) {
        for (const [place, text] of Object.entries(places)) expect(text.includes(c.key), `${c.credential}'s key in ${place}`).toBe(false);
      }
    }, 90_000);
  });
});
