/**
 * `npm run bench`: what a rotation costs beside the provider's own latency, what an idle worker
 * costs, how fast it starts, how fast `rotator status` answers at scale and how the status page
 * holds under load. Prints a table with each target beside its figure, writes it into
 * docs/performance.md (between its marker comments) and exits 1 when a figure missed its target.
 * A script, not a test: figures vary with the machine.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { createSecretStore, createSecretsManagerClient } from '../src/secrets/secret-store.ts';
import { statusKey } from '../src/state/rotation-state.ts';
import { interleaveByBudget } from '../src/queue/fair-order.ts';
import { budgetOf } from '../src/kinds/registry.ts';
import { createQueue, enqueue } from '../src/queue/producer.ts';
import { parseSecretValue } from '../src/kinds/registry.ts';
import { parseMarker } from '../src/kinds/credly/marker.ts';
import { startCredlyFake } from '../test/fakes/credly.fake.ts';
import { startScenario } from '../test/support/rotation-harness.ts';
import { startSmProxy } from '../test/support/sm-proxy.ts';
import { spawnRotator } from '../test/support/worker-process.ts';
import { BENCH_DOCUMENT, benchExitCode, verdictOf, writeBenchTable, type BenchRow } from './bench-report.ts';
import { emulatorAwsEnv, startLocalServices } from './local-services.ts';

const PROVIDER_LATENCY_MS = 50;
// The worker and the CLI are measured as the image runs them: compiled JavaScript, not the
// TypeScript sources through Node's type stripping (which costs start-up time and memory of its own).
const compiledCli = join(process.cwd(), '.local/bench-dist/src/cli/main.js');
// …with the Node flags of the image's ENTRYPOINT (the heap settings are part of what is measured).
const imageNodeFlags = (JSON.parse(/^ENTRYPOINT (\[.*\])$/m.exec(readFileSync('Dockerfile', 'utf8'))?.[1] ?? '[]') as string[]).filter((a) =>
  a.startsWith('--'),
);
const asImage = { NODE_OPTIONS: imageNodeFlags.join(' ') };
const rows: BenchRow[] = [];
const record = (what: string, figure: string, target: string, verdict: BenchRow['verdict']) => {
  rows.push({ what, figure, target, verdict });
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
  record('one Credly token rotation, provider at a fixed 50 ms per call: median', `${percentile(durations, 50).toFixed(0)} ms`, '-', '');
  record('one Credly token rotation, provider at a fixed 50 ms per call: p95', `${percentile(durations, 95).toFixed(0)} ms`, '-', '');
  record(
    'rotation ÷ its critical path (the Credly calls × 50 ms + the Secrets Manager calls × their measured latency), median',
    median.toFixed(2),
    '≤ 1.2',
    verdictOf(median <= 1.2),
  );
  await fake.close();
  await sm.close();
}

async function idleAndStartup(redisUrl: string, dir: string): Promise<void> {
  console.log('\n▸ idle cost and start-up with 1,000 credentials');
  const run = randomUUID().slice(0, 8);
  const config = join(dir, 'idle.yaml');
  writeFileSync(config, inventoryOf(1000, `bench/${run}`));
  const redis = new Redis(redisUrl);
  // A cache directory of its own, empty: the worker starts as a new pod does, from a cold cache.
  const env = {
    ROTATOR_CONFIG: config,
    REDIS_URL: redisUrl,
    ROTATOR_QUEUE_PREFIX: `{bench-${run}}`,
    LOG_LEVEL: 'warn',
    ROTATOR_CACHE_DIR: join(dir, `cache-idle-${run}`),
  };
  const start = performance.now();
  const worker = spawnRotator(['worker'], { ...env, ...asImage, LOG_LEVEL: 'info' }, compiledCli);
  const { port } = (await worker.waitForLog('ops: listening', 30_000)) as { port: number };
  for (;;) {
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ready) break;
    await sleep(10);
  }
  const startup = performance.now() - start;
  record('start-up to `/readyz` with 1,000 credentials', `${(startup / 1000).toFixed(2)} s`, '≤ 1.5 s', verdictOf(startup <= 1_500));
  await sleep(2_000);
  const pid = worker.child.pid!;
  const before = { ...processFigures(pid), commands: await redisCommands(redis) };
  await sleep(60_000);
  const after = { ...processFigures(pid), commands: await redisCommands(redis) };
  // Less the one INFO call of the bench itself that falls inside the minute.
  const perMinute = after.commands - before.commands - 1;
  record('idle worker with 1,000 credentials: RSS', `${after.rssMb.toFixed(0)} MB`, '≤ 120 MB', verdictOf(after.rssMb <= 120));
  record('idle worker with 1,000 credentials: CPU over 60 s', `${(after.cpuSeconds - before.cpuSeconds).toFixed(2)} s`, '-', '');
  record('idle worker with 1,000 credentials: Redis commands per minute', String(perMinute), '-', '');
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
  // Its output (3.7 MB of JSON) is taken whole, as a pipe to a file or to jq would take it. Twice, in
  // a cache directory of its own: the first run after the file changed (cold: the YAML read and the
  // validation, then the cache written), and the next one (warm: the inventory read with JSON.parse).
  const cacheDir = join(dir, `cache-status-${run}`);
  const statusRun = async (): Promise<number> => {
    const start = performance.now();
    const status = spawn(process.execPath, [compiledCli, 'status', '--json'], {
      env: { ...process.env, ROTATOR_CONFIG: config, REDIS_URL: redisUrl, ROTATOR_QUEUE_PREFIX: prefix, ROTATOR_CACHE_DIR: cacheDir, ...asImage },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    status.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    status.stderr.on('data', (chunk: Buffer) => out.push(chunk));
    const code = await new Promise<number | null>((resolve) => status.once('close', resolve));
    const ms = performance.now() - start;
    if (code !== 0) throw new Error(`rotator status failed: ${Buffer.concat(out).toString().slice(0, 500)}`);
    const listed = (JSON.parse(Buffer.concat(out).toString()) as { credentials: unknown[] }).credentials.length;
    if (listed !== 10_000) throw new Error(`rotator status listed ${listed} credentials, not 10,000`);
    return ms;
  };
  const cold = await statusRun();
  const warm = await statusRun();
  record('`rotator status` over 10,000 credentials', `${(warm / 1000).toFixed(2)} s`, '≤ 2 s', verdictOf(warm <= 2_000));
  record('`rotator status` over 10,000 credentials, first run after the file changed (inventory cache cold)', `${(cold / 1000).toFixed(2)} s`, '-', '');
  const keys = await redis.keys(`${prefix}*`);
  for (let i = 0; i < keys.length; i += 1000) await redis.del(...keys.slice(i, i + 1000));
  redis.disconnect();
}

/** A gauge of the worker's /metrics (one sample, no labels), in its unit. */
const gauge = (metrics: string, name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(metrics)?.[1] ?? Number.NaN);

async function statusUnderLoad(redisUrl: string, dir: string): Promise<void> {
  const CREDENTIALS = 3_000;
  const REQUESTS = 1_500;
  const CONCURRENCY = 50;
  console.log(`\n▸ status page under load: ${REQUESTS} requests to /status and /status.json, ${CONCURRENCY} at a time, ${CREDENTIALS} credentials`);
  const run = randomUUID().slice(0, 8);
  const prefix = `{bench-ops-${run}}`;
  const config = join(dir, 'ops.yaml');
  writeFileSync(config, inventoryOf(CREDENTIALS, `bench/${run}`));
  const redis = new Redis(redisUrl);
  const pipeline = redis.pipeline();
  // Every credential failing with a message: the largest rows the page and the JSON carry.
  for (let i = 0; i < CREDENTIALS; i += 1) {
    pipeline.hset(statusKey(prefix, `dg-${i}`), {
      lastResult: 'failed',
      lastErrorClass: 'ProviderUnavailableError',
      lastCheckAt: new Date().toISOString(),
      lastSummary: 'Degreed answered 503 to the token request (attempt 3 of 3); the next check retries',
    });
  }
  await pipeline.exec();
  const worker = spawnRotator(
    ['worker'],
    { ROTATOR_CONFIG: config, REDIS_URL: redisUrl, ROTATOR_QUEUE_PREFIX: prefix, LOG_LEVEL: 'info', ...asImage },
    compiledCli,
  );
  const { port } = (await worker.waitForLog('ops: listening', 30_000)) as { port: number };
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  while (
    !(await fetch(`${base}/readyz`).then(
      (r) => r.status === 200,
      () => false,
    ))
  ) {
    if (Date.now() > deadline) throw new Error('the worker was not ready within 60 s');
    await sleep(20);
  }
  // A first scrape resets the worker's event-loop histogram (prom-client): the figures cover the load only.
  await (await fetch(`${base}/metrics`)).text();
  const latencies: number[] = [];
  let bytes = 0;
  const start = performance.now();
  let failures = 0;
  await inPool(
    Array.from({ length: REQUESTS }, (_, i) => (i % 2 ? '/status.json' : '/status')),
    CONCURRENCY,
    async (path) => {
      const t0 = performance.now();
      try {
        const response = await fetch(`${base}${path}`);
        bytes += (await response.arrayBuffer()).byteLength;
        if (response.status !== 200) throw new Error(`${path} answered ${response.status}`);
        latencies.push(performance.now() - t0);
      } catch (error) {
        failures += 1;
        if (failures <= 3) console.log(`  ${path} failed: ${(error as Error).message} ${((error as Error).cause as Error | undefined)?.message ?? ''}`);
      }
    },
  );
  const seconds = (performance.now() - start) / 1000;
  const metrics = await (await fetch(`${base}/metrics`)).text();
  const p99 = gauge(metrics, 'nodejs_eventloop_lag_p99_seconds') * 1000;
  const max = gauge(metrics, 'nodejs_eventloop_lag_max_seconds') * 1000;
  console.log(
    `  ${REQUESTS} answers (${(bytes / REQUESTS / 1024).toFixed(0)} KiB each on average) in ${seconds.toFixed(1)} s; answer time median ${percentile(latencies, 50).toFixed(0)} ms, p99 ${percentile(latencies, 99).toFixed(0)} ms`,
  );
  record('status page under load (3,000 credentials, 1,500 requests): worker event-loop delay p99', `${p99.toFixed(0)} ms`, '≤ 100 ms', verdictOf(p99 <= 100));
  record('status page under load: worker event-loop delay max', `${max.toFixed(0)} ms`, '-', '');
  record('status page under load: requests per second', (REQUESTS / seconds).toFixed(0), '-', '');
  record('status page under load: requests failed', String(failures), '0', verdictOf(failures === 0));
  if (failures) console.log(worker.output().split('\n').slice(-20).join('\n'));
  worker.child.kill('SIGTERM');
  await worker.exited;
  const keys = await redis.keys(`${prefix}*`);
  for (let i = 0; i < keys.length; i += 1000) await redis.del(...keys.slice(i, i + 1000));
  redis.disconnect();
}

/** Runs `fn` over `items` with at most `width` at once. */
async function inPool<T>(items: readonly T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

/** Peak RSS in MB (VmHWM) of a process, from /proc. */
const peakRssMb = (pid: number) => Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

async function sweep(redisUrl: string, dir: string): Promise<void> {
  const ORGS = 100;
  const PER_ORG = 20;
  // The fake's limit per organization. Low enough that the organizations' limits, not the Secrets
  // Manager emulator (a single Python process, about 160 calls/s here), bound the sweep: at this
  // rate 2,000 rotations need about 70 emulator calls a second. The worker is told the same rate.
  const RATE = 0.5;
  const REPLICAS = 2;
  console.log(
    `\n▸ sweep: ${ORGS * PER_ORG} due Credly tokens across ${ORGS} organizations, each limited to ${RATE * 60} calls/min at the fake, ${REPLICAS} worker replicas`,
  );
  const fake = await startCredlyFake({ latencyMs: 20, rateLimit: { perSecond: RATE, burst: 2 } });
  const store = createSecretStore(createSecretsManagerClient());
  const run = randomUUID().slice(0, 8);
  const prefix = `{bench-sweep-${run}}`;
  const credentials: Array<{ id: string; organizationId: string; secretId: string; token: string }> = [];
  for (let o = 0; o < ORGS; o += 1) {
    const organizationId = fake.state.addOrganization(`Organization ${o}`);
    for (let t = 0; t < PER_ORG; t += 1) {
      const token = fake.state.addToken(organizationId, { description: 'badge issuing', createdAt: new Date(Date.now() - 170 * 86_400_000) });
      credentials.push({ id: `t-${o}-${t}`, organizationId, secretId: `bench/${run}/t-${o}-${t}`, token: token.token });
    }
  }
  await inPool(credentials, 8, async (c) => {
    const token = fake.state.tokens(c.organizationId).find((t) => t.token === c.token)!;
    await store.putCurrent(c.secretId, JSON.stringify({ token: c.token, tokenId: token.id }));
  });
  // Grouped by organization, as people write inventories; the sweep interleaves them itself. The old
  // tokens are revoked at once: the sweep's figure includes the revoke.
  const lines = ['version: 1', 'defaults:', '  revokePreviousAfter: 0s', 'credentials:'];
  for (const c of credentials) {
    lines.push(
      `  - id: ${c.id}`,
      '    kind: credly-authorization-token',
      `    secretId: ${c.secretId}`,
      `    organizationId: ${c.organizationId}`,
      '    environment: production',
      `    endpoints: { apiBase: "${fake.apiBase}" }`,
      '    schedule: "0 3 1 1 *"',
    );
  }
  const config = join(dir, 'sweep.yaml');
  writeFileSync(config, `${lines.join('\n')}\n`);
  const env = {
    ROTATOR_CONFIG: config,
    REDIS_URL: redisUrl,
    ROTATOR_QUEUE_PREFIX: prefix,
    ROTATOR_CREDLY_RATE_LIMIT: `${RATE * 60}/m`,
    ROTATOR_CONCURRENCY: process.env.BENCH_SWEEP_CONCURRENCY ?? '150',
    LOG_LEVEL: 'warn',
  };
  const workers = Array.from({ length: REPLICAS }, () => spawnRotator(['worker'], { ...env, ...asImage, LOG_LEVEL: 'info' }, compiledCli));
  await Promise.all(workers.map((w) => w.waitForLog('worker: started', 60_000)));
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queue = createQueue(redis, prefix);
  const before = fake.requests.length;
  const start = performance.now();
  // What a schedule shared by every credential enqueues when it fires.
  const ordered = interleaveByBudget(
    credentials.map((c) => ({ ...c, kind: 'credly-authorization-token' as const })),
    budgetOf,
  );
  for (const c of ordered) await enqueue(queue, 'check-credential', { credentialId: c.id, trigger: 'schedule' }, { jobId: `sweep-${c.id}` });
  const enqueued = (performance.now() - start) / 1000;
  let done: number;
  for (;;) {
    const results = await Promise.all(credentials.map((c) => redis.hget(statusKey(prefix, c.id), 'lastRotatedAt')));
    done = results.filter(Boolean).length;
    if (done === credentials.length) break;
    const failed = await queue.getFailedCount();
    if (failed > 0) throw new Error(`${failed} sweep job(s) failed: ${JSON.stringify((await queue.getFailed(0, 2)).map((j) => j.failedReason))}`);
    await sleep(500);
  }
  const seconds = (performance.now() - start) / 1000;
  // Per organization, in one pass over the calls: how many (the bound is the busiest one's, less
  // the fake's burst, at the fake's rate), the first and the last (its span against its own bound),
  // and the gaps between consecutive ones.
  const perOrg = new Map<string, { calls: number; first: number; last: number }>();
  const gaps: number[] = [];
  for (const r of fake.requests.slice(before)) {
    const org = /^\/v1\/organizations\/([^/]+)/.exec(r.path)?.[1];
    if (!org) continue;
    const at = r.at.getTime();
    const seen = perOrg.get(org);
    if (seen) {
      gaps.push(at - seen.last);
      seen.calls += 1;
      seen.last = at;
    } else {
      perOrg.set(org, { calls: 1, first: at, last: at });
    }
  }
  const busiest = Math.max(...[...perOrg.values()].map((o) => o.calls));
  console.log(`  gaps between one organization's calls: median ${percentile(gaps, 50)} ms, p90 ${percentile(gaps, 90)} ms, p99 ${percentile(gaps, 99)} ms`);
  const efficiency = [...perOrg.values()].map((o) => (o.last - o.first) / 1000 / ((o.calls - 2) / RATE));
  const firstCall = Math.min(...[...perOrg.values()].map((o) => o.first)) - (Date.now() - (performance.now() - start));
  console.log(
    `  enqueued in ${enqueued.toFixed(1)} s; first Credly call ${(firstCall / 1000).toFixed(1)} s after the start; organization span / own bound: median ${percentile(efficiency, 50).toFixed(2)}, max ${Math.max(...efficiency).toFixed(2)}`,
  );
  const bound = (busiest - 2) / RATE;
  const throttled = [...fake.throttled.values()].reduce((a, b) => a + b, 0);
  const peaks = workers.map((w) => peakRssMb(w.child.pid!));
  // Every credential ends with one new token of its own, current and working, the old one revoked.
  let wrong = 0;
  await inPool(credentials, 8, async (c) => {
    const now = parseSecretValue('credly-authorization-token', (await store.readCurrent(c.secretId)).secretString);
    const own = fake.state.tokens(c.organizationId).filter((t) => parseMarker(t.description)?.credentialId === c.id && !t.revoked);
    if (now.token === c.token || !fake.state.isTokenValid(now.token) || fake.state.isTokenValid(c.token) || own.length !== 1) wrong += 1;
  });
  console.log(
    `  ${fake.requests.length - before} Credly calls, the busiest organization ${busiest}; ${done} rotations in ${seconds.toFixed(1)} s against a bound of ${bound.toFixed(1)} s`,
  );
  const ratio = seconds / bound;
  record('sweep (2,000 due tokens, 100 organizations, below): time ÷ the rate-limit bound', ratio.toFixed(2), '≤ 1.15', verdictOf(ratio <= 1.15));
  record('sweep: 429s received', String(throttled), '0', verdictOf(throttled === 0));
  record('sweep: peak RSS per worker', `${Math.max(...peaks).toFixed(0)} MB`, '-', '');
  record('sweep: tokens not rotated exactly once', String(wrong), '0', verdictOf(wrong === 0));
  for (const w of workers) w.child.kill('SIGTERM');
  await Promise.all(workers.map((w) => w.exited));
  await queue.close();
  const keys = await redis.keys(`${prefix}*`);
  for (let i = 0; i < keys.length; i += 1000) await redis.del(...keys.slice(i, i + 1000));
  redis.disconnect();
  await fake.close();
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'rotator-bench-'));
  const build = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json', '--outDir', '.local/bench-dist'], {
    stdio: 'inherit',
  });
  if (build.status !== 0) throw new Error('the TypeScript build failed');
  // `npm run bench -- sweep status` runs only those parts (rotation, idle, status, ops, sweep).
  const only = new Set(process.argv.slice(2));
  const unknown = [...only].filter((p) => !['rotation', 'idle', 'status', 'ops', 'sweep'].includes(p));
  if (unknown.length) throw new Error(`unknown bench part(s): ${unknown.join(', ')} (rotation, idle, status, ops, sweep)`);
  const wanted = (name: string) => only.size === 0 || only.has(name);
  const services = await startLocalServices();
  try {
    process.env.REDIS_URL = services.redisUrl;
    Object.assign(process.env, emulatorAwsEnv(services.secretsManagerEndpoint));
    if (wanted('rotation')) await rotationOverhead();
    if (wanted('idle')) await idleAndStartup(services.redisUrl, dir);
    if (wanted('status')) await statusAtScale(services.redisUrl, dir);
    if (wanted('ops')) await statusUnderLoad(services.redisUrl, dir);
    if (wanted('sweep')) await sweep(services.redisUrl, dir);
  } finally {
    await services.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  console.log('\n| figure | value | target | |\n|---|---|---|---|');
  for (const row of rows) console.log(`| ${row.what} | ${row.figure} | ${row.target} | ${row.verdict} |`);
  // The document's table is the bench's own output: rows of this run replace theirs, the others stay.
  const parts = only.size ? [...only].join(', ') : 'every part';
  writeFileSync(BENCH_DOCUMENT, writeBenchTable(readFileSync(BENCH_DOCUMENT, 'utf8'), rows, `${new Date().toISOString().slice(0, 10)} (${parts})`));
  console.log(`${BENCH_DOCUMENT}: bench table written`);
  const missed = rows.filter((r) => r.verdict === 'MISSED');
  if (missed.length) console.error(`${missed.length} figure(s) MISSED their target: ${missed.map((r) => r.what).join('; ')}`);
  process.exitCode = benchExitCode(rows);
}

await main();
