/**
 * Crash matrix: a worker process is killed (SIGKILL) at every step boundary of both rotating flows
 * (Credly authorization token, Credly OAuth application), and a new worker takes over.
 *
 * The boundaries are not listed by hand: a clean reference rotation records every call it makes,
 * to the Credly fake and to Secrets Manager. Each call then gives a kill point: the call is held
 * (it arrived, it is never answered, so everything before it happened and nothing after), and a
 * create or delete at the provider also gives an "applied, answer lost" point (the provider acts,
 * the worker dies before it hears). Every case must converge to exactly one rotation: the new
 * credential current and working, the old one revoked, no orphan, nothing pending, no secret in
 * Redis or in the logs. The time from the kill to the end of the job is reported.
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import type { JobOutcome } from '../../jobs/index.ts';
import { parseMarker } from '../../src/kinds/credly/marker.ts';
import { QUEUE_NAME } from '../../src/config/queue-names.ts';
import { createSecretStore, createSecretsManagerClient } from '../../src/secrets/secret-store.ts';
import { parseSecretValue } from '../../src/kinds/registry.ts';
import { startCredlyFake, type CredlyFake, type CredlyServer } from '../fakes/credly.fake.ts';
import type { FaultRule } from '../fakes/faults.ts';
import { seededRandom } from '../fakes/faults.ts';
import { dumpRedis } from '../support/redis-dump.ts';
import { startSmProxy, type SmProxy } from '../support/sm-proxy.ts';
import { spawnRotator, type RotatorProcess } from '../support/worker-process.ts';
import type { SoakContext, SoakRow, SoakScenario } from './report.ts';

const SCENARIO = 'crash matrix';
const DAY = 86_400_000;
type Flow = 'credly token' | 'oauth application';

/** One call of the reference rotation, as a rule can find it again: the `skip`-th match of its pattern. */
interface KillPoint {
  flow: Flow;
  name: string;
  provider?: { server: CredlyServer; method: string; path: RegExp; skip: number; answerLost: boolean };
  secretsManager?: { operation: string; skip: number };
}

interface Case {
  credentialId: string;
  prefix: string;
  env: Record<string, string>;
  /** Every secret value of the case, searched for in Redis and the logs at the end. */
  secrets(): string[];
  /** Empty when the rotation converged as it must; otherwise what is wrong. */
  check(): Promise<string[]>;
}

/** A path as a pattern: ids (uuids, numbers) become wildcards, so the same call matches in another case. */
function pathPattern(path: string): RegExp {
  const generic = path
    .split('/')
    .map((part) => (/^[0-9a-f-]{36}$/.test(part) || /^\d+$/.test(part) ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${generic}$`);
}

export const crashMatrix: SoakScenario = async (ctx: SoakContext): Promise<SoakRow[]> => {
  const fake = await startCredlyFake();
  const sm = await startSmProxy(process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER!);
  const store = createSecretStore(createSecretsManagerClient());
  const redis = new Redis(process.env.REDIS_URL!, { maxRetriesPerRequest: null });
  const running = new Set<RotatorProcess>();
  const rows: SoakRow[] = [];
  try {
    const makeCase = (flow: Flow) => (flow === 'credly token' ? tokenCase(ctx, fake, sm, store) : applicationCase(ctx, fake, sm, store));

    const startWorker = async (c: Case) => {
      const worker = spawnRotator(['worker'], c.env);
      running.add(worker);
      await worker.waitForLog('worker: started', 30_000);
      return worker;
    };
    const stop = async (worker: RotatorProcess) => {
      if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGKILL');
      await worker.exited;
      running.delete(worker);
    };

    /** Runs one job of the case with worker `worker`; resolves with its outcome. */
    const withQueue = async <T>(c: Case, fn: (queue: Queue, events: QueueEvents) => Promise<T>): Promise<T> => {
      const connection = redis.duplicate();
      const queue = new Queue(QUEUE_NAME, { connection: redis, prefix: c.prefix });
      const events = new QueueEvents(QUEUE_NAME, { connection, prefix: c.prefix });
      await events.waitUntilReady();
      try {
        return await fn(queue, events);
      } finally {
        await events.close();
        await queue.close();
        connection.disconnect();
      }
    };
    const enqueue = (queue: Queue, c: Case) =>
      queue.add('check-credential', { credentialId: c.credentialId, trigger: 'manual' }, { attempts: 5, backoff: { type: 'fixed', delay: 200 } });

    // 1. The reference rotations: every call each flow makes, in order, per host.
    const points: KillPoint[] = [];
    for (const flow of ['credly token', 'oauth application'] as const) {
      const c = await makeCase(flow);
      const worker = await startWorker(c);
      const fakeBefore = fake.requests.length;
      const smBefore = sm.seen.length;
      const outcome = await withQueue(c, async (queue, events) => (await enqueue(queue, c)).waitUntilFinished(events, 30_000) as Promise<JobOutcome>);
      await stop(worker);
      const problems = await c.check();
      if (outcome.status !== 'success' || problems.length > 0) throw new Error(`the reference ${flow} rotation did not converge: ${problems.join('; ')}`);
      const seenPattern = new Map<string, number>();
      for (const r of fake.requests.slice(fakeBefore)) {
        const path = pathPattern(r.path);
        const key = `${r.server} ${r.method} ${path.source}`;
        const skip = seenPattern.get(key) ?? 0;
        seenPattern.set(key, skip + 1);
        const label = `${r.method} ${r.path.replace(/\/v1\/organizations\/[^/]+/, '…').replace(/\/[0-9a-f-]{36}$|\/\d+$/, '/{id}')}${skip ? ` #${skip + 1}` : ''}`;
        points.push({ flow, name: `held: ${label}`, provider: { server: r.server, method: r.method, path, skip, answerLost: false } });
        if (r.method === 'POST' && r.server === 'api')
          points.push({ flow, name: `applied, answer lost: ${label}`, provider: { server: r.server, method: r.method, path, skip, answerLost: true } });
        if (r.method === 'DELETE')
          points.push({ flow, name: `applied, answer lost: ${label}`, provider: { server: r.server, method: r.method, path, skip, answerLost: true } });
      }
      const seenOperation = new Map<string, number>();
      for (const operation of sm.seen.slice(smBefore)) {
        const skip = seenOperation.get(operation) ?? 0;
        seenOperation.set(operation, skip + 1);
        points.push({ flow, name: `held: Secrets Manager ${operation}${skip ? ` #${skip + 1}` : ''}`, secretsManager: { operation, skip } });
      }
    }

    // 2. The short form takes a seeded sample of each flow's points; the full form takes them all.
    const random = seededRandom(ctx.seed);
    const chosen = ctx.scale === 'full' ? points : points.filter(() => random() < 0.35);
    ctx.log(`crash matrix: ${points.length} kill points found, ${chosen.length} run`);

    const failures: string[] = [];
    const converge: Record<Flow, number[]> = { 'credly token': [], 'oauth application': [] };
    for (const point of chosen) {
      const c = await makeCase(point.flow);
      const first = await startWorker(c);
      const fakeBefore = fake.requests.length;
      const smBefore = sm.seen.length;
      let second: RotatorProcess | undefined;
      try {
        const arrived = () => {
          if (point.provider) {
            const p = point.provider;
            return fake.requests.slice(fakeBefore).filter((r) => r.server === p.server && r.method === p.method && p.path.test(r.path)).length > p.skip;
          }
          const s = point.secretsManager!;
          return sm.seen.slice(smBefore).filter((o) => o === s.operation).length > s.skip;
        };
        if (point.provider) {
          const p = point.provider;
          const rule: FaultRule<CredlyServer> = {
            match: { server: p.server, method: p.method, path: p.path },
            skip: p.skip,
            // Held: never answered. Answer lost: the fake acts a moment later, when the worker is gone.
            fault: p.answerLost ? { kind: 'latency', ms: 300 } : { kind: 'hang', ms: 60_000 },
          };
          fake.faults.add(rule);
        } else {
          sm.add({ operation: point.secretsManager!.operation, skip: point.secretsManager!.skip, fault: { kind: 'hang' } });
        }
        const outcome = await withQueue(c, async (queue, events) => {
          const job = await enqueue(queue, c);
          const deadline = Date.now() + 20_000;
          while (!arrived()) {
            if (Date.now() > deadline) throw new Error('the kill point was never reached');
            await sleep(5);
          }
          await stop(first);
          const killedAt = performance.now();
          fake.faults.clear();
          sm.clear();
          if (point.provider?.answerLost) await sleep(400);
          second = await startWorker(c);
          const result = (await job.waitUntilFinished(events, 60_000)) as JobOutcome;
          converge[point.flow].push((performance.now() - killedAt) / 1000);
          return result;
        });
        const problems = await c.check();
        if (outcome.status !== 'success') problems.push(`the job ended ${outcome.status}: ${outcome.summary}`);
        const { text } = await dumpRedis(redis, `${c.prefix}*`);
        const logs = first.output() + (second?.output() ?? '');
        const leaked = c.secrets().filter((value) => text.includes(value) || logs.includes(value));
        if (leaked.length) problems.push(`${leaked.length} secret value(s) in Redis or the logs`);
        if (problems.length) failures.push(`${point.flow}, ${point.name}: ${problems.join('; ')}`);
      } catch (error) {
        failures.push(`${point.flow}, ${point.name}: ${(error as Error).message.split('\n')[0]}`);
      } finally {
        fake.faults.clear();
        sm.clear();
        await stop(first);
        if (second) await stop(second);
      }
    }

    const summary = (values: number[]) => (values.length ? `median ${median(values).toFixed(1)} s, max ${Math.max(...values).toFixed(1)} s` : 'none run');
    for (const flow of ['credly token', 'oauth application'] as const) {
      const run = chosen.filter((p) => p.flow === flow).length;
      const own = failures.filter((f) => f.startsWith(flow));
      rows.push({
        scenario: SCENARIO,
        figure: `${flow}: kill points converged`,
        value: `${run - own.length} of ${run}`,
        target: `all (${points.filter((p) => p.flow === flow).length} points in the full run)`,
        ok: own.length === 0 && run > 0,
        ...(own.length ? { detail: own.slice(0, 3).join(' | ') } : {}),
      });
      rows.push({ scenario: SCENARIO, figure: `${flow}: time to converge after the kill`, value: summary(converge[flow]), target: '-', ok: true });
    }
    return rows;
  } finally {
    for (const worker of running) worker.child.kill('SIGKILL');
    await Promise.all([...running].map((w) => w.exited));
    redis.disconnect();
    await sm.close();
    await fake.close();
  }
};

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

const workerEnv = (configPath: string, prefix: string, sm: SmProxy): Record<string, string> => ({
  ROTATOR_CONFIG: configPath,
  ROTATOR_QUEUE_PREFIX: prefix,
  // A dead worker's job and credential locks expire quickly, so the new worker takes over soon.
  ROTATOR_LOCK_DURATION: '5s',
  ROTATOR_REQUEST_TIMEOUT: '5s',
  AWS_ENDPOINT_URL_SECRETS_MANAGER: sm.url,
  LOG_LEVEL: 'debug',
});

/** A due Credly token in an organization of its own. */
async function tokenCase(ctx: SoakContext, fake: CredlyFake, sm: SmProxy, store: ReturnType<typeof createSecretStore>): Promise<Case> {
  const run = randomUUID().slice(0, 8);
  const credentialId = `token-${run}`;
  const secretId = `soak/crash/${run}`;
  const org = fake.state.addOrganization(`Crash ${run}`);
  const original = fake.state.addToken(org, { description: 'made by hand', createdAt: new Date(Date.now() - 170 * DAY) });
  await store.putCurrent(secretId, JSON.stringify({ token: original.token, tokenId: original.id }));
  const configPath = join(ctx.dir, `${run}.yaml`);
  writeFileSync(
    configPath,
    `version: 1
defaults:
  revokePreviousAfter: 0s
  forceCooldown: 0s
credentials:
  - id: ${credentialId}
    kind: credly-authorization-token
    secretId: ${secretId}
    organizationId: ${org}
    environment: production
    endpoints: { apiBase: "${fake.apiBase}" }
`,
  );
  const prefix = `{soak-crash-${run}}`;
  return {
    credentialId,
    prefix,
    env: workerEnv(configPath, prefix, sm),
    secrets: () => fake.state.tokens(org).map((t) => t.token),
    async check() {
      const problems: string[] = [];
      const now = parseSecretValue('credly-authorization-token', (await store.readCurrent(secretId)).secretString);
      if (now.token === original.token) problems.push('the old token is still current');
      if (!fake.state.isTokenValid(now.token)) problems.push('the current token does not work');
      if (fake.state.isTokenValid(original.token)) problems.push('the old token still works');
      const own = fake.state.tokens(org).filter((t) => parseMarker(t.description)?.credentialId === credentialId && fake.state.isTokenValid(t.token));
      if (own.length !== 1 || own[0]!.id !== now.tokenId) problems.push(`${own.length} live token(s) made by the rotator, expected only the current one`);
      const versions = await store.listVersions(secretId);
      if (versions.some((v) => v.stages.includes('AWSPENDING'))) problems.push('an AWSPENDING version is left');
      return problems;
    },
  };
}

/** An OAuth application whose stored client secret Credly refuses, managed by a token of the same organization. */
async function applicationCase(ctx: SoakContext, fake: CredlyFake, sm: SmProxy, store: ReturnType<typeof createSecretStore>): Promise<Case> {
  const run = randomUUID().slice(0, 8);
  const credentialId = `app-${run}`;
  const org = fake.state.addOrganization(`Crash ${run}`);
  const manager = fake.state.addToken(org, { description: 'management token (by hand)' });
  const old = fake.state.createApplication(org, { name: 'LMS badge sync' });
  const secretIds = { token: `soak/crash/${run}/token`, app: `soak/crash/${run}/app` };
  await store.putCurrent(secretIds.token, JSON.stringify({ token: manager.token, tokenId: manager.id }));
  await store.putCurrent(secretIds.app, JSON.stringify({ clientId: old.uid, clientSecret: 'credlysecret_lost', applicationId: old.id }));
  const configPath = join(ctx.dir, `${run}.yaml`);
  writeFileSync(
    configPath,
    `version: 1
defaults:
  revokePreviousAfter: 0s
  forceCooldown: 0s
credentials:
  - id: token-${run}
    kind: credly-authorization-token
    secretId: ${secretIds.token}
    organizationId: ${org}
    environment: production
    endpoints: { apiBase: "${fake.apiBase}" }
  - id: ${credentialId}
    kind: credly-oauth-application
    secretId: ${secretIds.app}
    organizationId: ${org}
    environment: production
    managedBy: token-${run}
    applicationName: LMS badge sync
    scopes: [issued_badges]
    endpoints: { apiBase: "${fake.apiBase}", tokenUrl: "${fake.tokenUrl}" }
`,
  );
  const prefix = `{soak-crash-${run}}`;
  return {
    credentialId,
    prefix,
    env: workerEnv(configPath, prefix, sm),
    secrets: () => [manager.token, ...fake.state.applications(org).map((a) => a.secret), old.secret],
    async check() {
      const problems: string[] = [];
      const now = parseSecretValue('credly-oauth-application', (await store.readCurrent(secretIds.app)).secretString);
      if (!fake.state.isClientValid(now.clientId, now.clientSecret)) problems.push('the current client secret does not work');
      const apps = fake.state.applications(org).map((a) => a.id);
      if (apps.length !== 1 || apps[0] !== now.applicationId) problems.push(`${apps.length} application(s) left, expected only the current one`);
      if (now.applicationId === old.id) problems.push('the old application is still current');
      const versions = await store.listVersions(secretIds.app);
      if (versions.some((v) => v.stages.includes('AWSPENDING'))) problems.push('an AWSPENDING version is left');
      return problems;
    },
  };
}
