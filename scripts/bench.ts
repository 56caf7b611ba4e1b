/**
 * `npm run bench`: what a rotation costs beside the provider's own latency, what an idle worker
 * costs, how fast it starts and how fast `rotator status` answers at scale. Prints a table with
 * each target beside its figure. A script, not a test: figures vary with the machine.
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { createSecretStore, createSecretsManagerClient } from '../src/secrets/secret-store.ts';
import { statusKey } from '../src/rotation/rotation-state.ts';
import { startCredlyFake } from '../test/fakes/credly.fake.ts';
import { startScenario } from '../test/support/rotation-harness.ts';
import { startSmProxy } from '../test/support/sm-proxy.ts';
import { spawnRotator } from '../test/support/worker-process.ts';
import { emulatorAwsEnv, startLocalServices } from './local-services.ts';

const PROVIDER_LATENCY_MS = 50;
// The worker and the CLI are measured as the image runs them: compiled JavaScript, not the
// TypeScript sources through Node's type stripping (which costs start-up time and memory of its own).
const compiledCli = join(process.cwd(), '.local/bench-dist/src/cli.js');
const rows: string[][] = [];
const record = (what: string, figure: string, target: string, verdict: string) => {
  rows.push([what, figure, target, verdict]);
  console.log(`  ${what}: ${figure} (target ${target}) ${verdict}`);
};
const percentile = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((p / 100) * values.length))]!;

/** RSS in MB and CPU seconds of a process, from /proc. */
function processFigures(pid: number): { rssMb: number; cpuSeconds: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  const ticks = Number(stat[11]) + Number(stat[12]);
  return { rssMb: rssKb / 1024, cpuSeconds: ticks / 100 };
}

async function redisCommands(redis: Redis): Promise<number> {
  const info = await redis.info('commandstats');
  return [...info.matchAll(/calls=(\d+)/g)].reduce((sum, m) => sum + Number(m[1]), 0);
}

function inventoryOf(count: number, prefix: string, schedule = '0 3 1 1 *'): string {
  const lines = ['version: 1', 'credentials:'];
  for (let i = 0; i < count; i += 1) {
    lines.push(
      `  - id: dg-${i}`,
      '    kind: degreed-client-credentials',
      `    secretId: ${prefix}/dg-${i}`,
      '    environment: production',
      '    dataCenter: US',
      '    scopes: [users:read]',
      `    schedule: "${schedule}"`,
    );
  }
  return `${lines.join('\n')}\n`;
}

async function rotationOverhead(): Promise<void> {
  console.log('\n▸ rotation overhead (Credly fake at a fixed 50 ms per call)');
  const fake = await startCredlyFake({ latencyMs: PROVIDER_LATENCY_MS });
  const sm = await startSmProxy(process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER!);
  // The emulator's own latency per call, measured, since it is part of the critical path.
  const store = createSecretStore(createSecretsManagerClient({ endpoint: sm.url }));
  const probeId = `bench/${randomUUID().slice(0, 8)}`;
  await store.putCurrent(probeId, '{"token":"probe"}');
  const t0 = performance.now();
  for (let i = 0; i < 20; i += 1) await store.readCurrent(probeId);
  const smMs = (performance.now() - t0) / 20;
  const durations: number[] = [];
  const ratios: number[] = [];
  for (let i = 0; i < 20; i += 1) {
    const s = await startScenario(fake, sm, { tokenAgeDays: 170 });
    const before = { provider: fake.requests.length, sm: sm.seen.length };
    const start = performance.now();
    const result = await s.run();
    const ms = performance.now() - start;
    if (result.state !== 'completed') throw new Error(`rotation ${i} failed: ${result.reason ?? ''}`);
    const calls = { provider: fake.requests.length - before.provider, sm: sm.seen.length - before.sm };
    const critical = calls.provider * PROVIDER_LATENCY_MS + calls.sm * smMs;
    durations.push(ms);
    ratios.push(ms / critical);
    if (i === 0) console.log(`  one rotation makes ${calls.provider} provider calls and ${calls.sm} Secrets Manager calls (${smMs.toFixed(1)} ms each here)`);
    await s.close();
  }
  const median = percentile(ratios, 50);
  record('rotation, median', `${percentile(durations, 50).toFixed(0)} ms`, '-', '');
  record('rotation, p95', `${percentile(durations, 95).toFixed(0)} ms`, '-', '');
  record('rotation / critical path (median)', median.toFixed(2), '≤ 1.2', median <= 1.2 ? 'met' : 'MISSED');
  await fake.close();
  await sm.close();
}

async function idleAndStartup(redisUrl: string, dir: string): Promise<void> {
  console.log('\n▸ idle cost and start-up with 1,000 credentials');
  const run = randomUUID().slice(0, 8);
  const config = join(dir, 'idle.yaml');
  writeFileSync(config, inventoryOf(1000, `bench/${run}`));
  const redis = new Redis(redisUrl);
  const env = { ROTATOR_CONFIG: config, REDIS_URL: redisUrl, ROTATOR_QUEUE_PREFIX: `{bench-${run}}`, LOG_LEVEL: 'warn' };
  const start = performance.now();
  const worker = spawnRotator(['worker'], { ...env, LOG_LEVEL: 'info' }, compiledCli);
  const { port } = (await worker.waitForLog('ops: listening', 30_000)) as { port: number };
  for (;;) {
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.status === 200, () => false);
    if (ready) break;
    await sleep(10);
  }
  const startup = performance.now() - start;
  record('start-up to /readyz', `${(startup / 1000).toFixed(2)} s`, '≤ 1.5 s', startup <= 1_500 ? 'met' : 'MISSED');
  await sleep(2_000);
  const pid = worker.child.pid!;
  const before = { ...processFigures(pid), commands: await redisCommands(redis) };
  await sleep(60_000);
  const after = { ...processFigures(pid), commands: await redisCommands(redis) };
  // Less the one INFO call of the bench itself that falls inside the minute.
  const perMinute = after.commands - before.commands - 1;
  record('idle RSS', `${after.rssMb.toFixed(0)} MB`, '≤ 120 MB', after.rssMb <= 120 ? 'met' : 'MISSED');
  record('idle CPU over 60 s', `${(after.cpuSeconds - before.cpuSeconds).toFixed(2)} s`, '-', '');
  record('idle Redis commands per minute', String(perMinute), '-', '');
  worker.child.kill('SIGTERM');
  await worker.exited;
  redis.disconnect();
}

async function statusAtScale(redisUrl: string, dir: string): Promise<void> {
  console.log('\n▸ rotator status over 10,000 credentials');
  const run = randomUUID().slice(0, 8);
  const prefix = `{bench-status-${run}}`;
  const config = join(dir, 'status.yaml');
  writeFileSync(config, inventoryOf(10_000, `bench/${run}`));
  const redis = new Redis(redisUrl);
  const pipeline = redis.pipeline();
  for (let i = 0; i < 10_000; i += 1) {
    pipeline.hset(statusKey(prefix, `dg-${i}`), { lastResult: 'valid', lastCheckAt: new Date().toISOString(), lastSummary: 'token granted' });
  }
  await pipeline.exec();
  const start = performance.now();
  const status = spawnRotator(['status', '--json'], { ROTATOR_CONFIG: config, REDIS_URL: redisUrl, ROTATOR_QUEUE_PREFIX: prefix }, compiledCli);
  const exit = await status.exited;
  const ms = performance.now() - start;
  if (exit.code !== 0) throw new Error(`rotator status failed: ${status.output().slice(0, 500)}`);
  record('rotator status, 10,000 credentials', `${(ms / 1000).toFixed(2)} s`, '≤ 2 s', ms <= 2_000 ? 'met' : 'MISSED');
  const keys = await redis.keys(`${prefix}*`);
  for (let i = 0; i < keys.length; i += 1000) await redis.del(...keys.slice(i, i + 1000));
  redis.disconnect();
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'rotator-bench-'));
  const build = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json', '--outDir', '.local/bench-dist'], { stdio: 'inherit' });
  if (build.status !== 0) throw new Error('the TypeScript build failed');
  const services = await startLocalServices();
  try {
    process.env.REDIS_URL = services.redisUrl;
    Object.assign(process.env, emulatorAwsEnv(services.secretsManagerEndpoint));
    await rotationOverhead();
    await idleAndStartup(services.redisUrl, dir);
    await statusAtScale(services.redisUrl, dir);
    console.log('\n▸ sweep at scale (2,000 tokens, 100 organizations, a per-organization rate limit)');
    record('sweep', 'not measured', '≤ 1.15× the rate-limit bound, 0 × 429', 'scenario not written yet (the limiter is in place)');
    console.log('\n| figure | value | target | |\n|---|---|---|---|');
    for (const row of rows) console.log(`| ${row.join(' | ')} |`);
  } finally {
    await services.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
