/**
 * Fault soak: rotations and validations of all four credential kinds, run by two real worker
 * processes while a fifth of the calls to every provider fake and to Secrets Manager fail (429 with
 * and without Retry-After, 500, 503, resets, timeouts, truncated JSON, wrong content type; for
 * Secrets Manager throttling, 500, 503, resets, timeouts and broken JSON). Then the faults stop and
 * every credential is checked once more, as the next schedule would. Counted at the end:
 * credentials lost (AWSCURRENT must work at the fake), duplicate rotations, live orphans after that
 * reconciling pass, failure alerts against jobs failed for good, and secret values found in Redis,
 * the workers' logs and the alert bodies.
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { budgetOf, type CredentialKind } from '../../src/kinds/registry.ts';
import { parseMarker } from '../../src/kinds/credly/marker.ts';
import { interleaveByBudget } from '../../src/queue/fair-order.ts';
import { QUEUE_NAME } from '../../src/config/queue-names.ts';
import { createSecretStore, createSecretsManagerClient } from '../../src/secrets/secret-store.ts';
import { parseSecretValue } from '../../src/kinds/registry.ts';
import { startCredlyFake } from '../fakes/credly.fake.ts';
import { startDegreedFake } from '../fakes/degreed.fake.ts';
import type { Fault } from '../fakes/faults.ts';
import { startLearnlinkFake } from '../fakes/learnlink.fake.ts';
import { startAlertReceiver } from '../support/alert-receiver.ts';
import { dumpRedis } from '../support/redis-dump.ts';
import { startSmProxy, type SmFault } from '../support/sm-proxy.ts';
import { spawnRotator, type RotatorProcess } from '../support/worker-process.ts';
import { countRow, type SoakContext, type SoakRow, type SoakScenario } from './report.ts';

const SCENARIO = 'fault soak';
const DAY = 86_400_000;
const FAULT_RATE = 0.2;
/** Longer than the workers' request timeout (1 s): a client timeout, not a slow answer. */
const HANG_MS = 1_500;

const PROVIDER_FAULTS: Fault[] = [
  { kind: 'status', status: 429, retryAfter: 1 },
  { kind: 'status', status: 429 },
  { kind: 'status', status: 500 },
  { kind: 'status', status: 503, retryAfter: 1 },
  { kind: 'status', status: 503 },
  { kind: 'reset' },
  { kind: 'hang', ms: HANG_MS },
  { kind: 'malformed' },
  { kind: 'malformed', body: '{"data": [' },
  { kind: 'wrong-content-type' },
];

const SM_FAULTS: SmFault[] = [
  { kind: 'status', status: 400, type: 'ThrottlingException' },
  { kind: 'status', status: 500, type: 'InternalServiceError' },
  { kind: 'status', status: 503, type: 'ServiceUnavailableException' },
  { kind: 'reset' },
  { kind: 'malformed' },
  { kind: 'delay', ms: HANG_MS },
];

type Kind = 'credly token' | 'oauth application' | 'degreed' | 'learn.link';

export const faultSoak: SoakScenario = async (ctx: SoakContext): Promise<SoakRow[]> => {
  // Full: 1,000 checks (400 token rotations, 100 application recreations with their 100 managing
  // tokens checked, 200 + 200 validations). Short: a tenth.
  const n = ctx.scale === 'full' ? { tokens: 400, apps: 100, degreed: 200, learnlink: 200 } : { tokens: 40, apps: 10, degreed: 20, learnlink: 20 };
  const [credly, degreed, learnlink, receiver] = await Promise.all([startCredlyFake(), startDegreedFake(), startLearnlinkFake(), startAlertReceiver()]);
  const sm = await startSmProxy(process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER!);
  const store = createSecretStore(createSecretsManagerClient());
  const redis = new Redis(process.env.REDIS_URL!, { maxRetriesPerRequest: null });
  const run = randomUUID().slice(0, 8);
  const prefix = `{soak-faults-${run}}`;
  const queue = new Queue(QUEUE_NAME, { connection: redis, prefix });
  const workers: RotatorProcess[] = [];
  try {
    // 1. The credentials, at the fakes and in Secrets Manager.
    interface Entry {
      id: string;
      kind: Kind;
      credentialKind: CredentialKind;
      organizationId?: string;
      secretId: string;
      yaml: string;
      /** Whether AWSCURRENT works at the fake. */
      works(): Promise<boolean>;
      /** Live credentials the rotator made for this entry that are not AWSCURRENT. */
      orphans(): Promise<number>;
    }
    const entries: Entry[] = [];
    const secretIdOf = (id: string) => `soak/faults/${run}/${id}`;
    const readCurrent = async (id: string) => (await store.readCurrent(secretIdOf(id))).secretString;

    for (let i = 0; i < n.tokens; i += 1) {
      const org = i % 10 === 0 ? credly.state.addOrganization(`Soak ${i / 10}`) : entries.at(-1)!.organizationId!;
      const token = credly.state.addToken(org, { description: 'badge issuing', createdAt: new Date(Date.now() - 170 * DAY) });
      const id = `token-${i}`;
      await store.putCurrent(secretIdOf(id), JSON.stringify({ token: token.token, tokenId: token.id }));
      entries.push({
        id,
        kind: 'credly token',
        credentialKind: 'credly-authorization-token',
        organizationId: org,
        secretId: secretIdOf(id),
        yaml: `    kind: credly-authorization-token\n    organizationId: ${org}\n    environment: production\n    endpoints: { apiBase: "${credly.apiBase}" }`,
        works: async () => credly.state.isTokenValid(parseSecretValue('credly-authorization-token', await readCurrent(id)).token),
        orphans: async () => {
          const current = parseSecretValue('credly-authorization-token', await readCurrent(id));
          return credly.state
            .tokens(org)
            .filter((t) => parseMarker(t.description)?.credentialId === id && credly.state.isTokenValid(t.token) && t.token !== current.token).length;
        },
      });
    }
    for (let i = 0; i < n.apps; i += 1) {
      const org = credly.state.addOrganization(`Soak apps ${i}`);
      // The managing token is fresh (not due): checked, not rotated, so it never changes under the application's job.
      const manager = credly.state.addToken(org, { description: 'management token' });
      const managerId = `manager-${i}`;
      await store.putCurrent(secretIdOf(managerId), JSON.stringify({ token: manager.token, tokenId: manager.id }));
      entries.push({
        id: managerId,
        kind: 'credly token',
        credentialKind: 'credly-authorization-token',
        organizationId: org,
        secretId: secretIdOf(managerId),
        yaml: `    kind: credly-authorization-token\n    organizationId: ${org}\n    environment: production\n    endpoints: { apiBase: "${credly.apiBase}" }`,
        works: async () => credly.state.isTokenValid(parseSecretValue('credly-authorization-token', await readCurrent(managerId)).token),
        orphans: async () => 0,
      });
      const old = credly.state.createApplication(org, { name: 'LMS badge sync' });
      const id = `app-${i}`;
      // A lost client secret: the application must be recreated.
      await store.putCurrent(secretIdOf(id), JSON.stringify({ clientId: old.uid, clientSecret: 'credlysecret_lost', applicationId: old.id }));
      entries.push({
        id,
        kind: 'oauth application',
        credentialKind: 'credly-oauth-application',
        organizationId: org,
        secretId: secretIdOf(id),
        yaml: `    kind: credly-oauth-application\n    organizationId: ${org}\n    environment: production\n    managedBy: ${managerId}\n    applicationName: LMS badge sync\n    scopes: [issued_badges]\n    endpoints: { apiBase: "${credly.apiBase}", tokenUrl: "${credly.tokenUrl}" }`,
        works: async () => {
          const current = parseSecretValue('credly-oauth-application', await readCurrent(id));
          return credly.state.isClientValid(current.clientId, current.clientSecret);
        },
        orphans: async () => {
          const current = parseSecretValue('credly-oauth-application', await readCurrent(id));
          return credly.state.applications(org).filter((a) => a.id !== current.applicationId && parseMarker(a.description)?.credentialId === id).length;
        },
      });
    }
    for (let i = 0; i < n.degreed; i += 1) {
      const client = degreed.state.addClient({ scopes: ['users:read'] });
      const id = `degreed-${i}`;
      await store.putCurrent(secretIdOf(id), JSON.stringify(client));
      entries.push({
        id,
        kind: 'degreed',
        credentialKind: 'degreed-client-credentials',
        secretId: secretIdOf(id),
        yaml: `    kind: degreed-client-credentials\n    environment: production\n    dataCenter: US\n    scopes: [users:read]\n    endpoints: { tokenUrl: "${degreed.tokenUrl}", apiBase: "${degreed.apiBase}" }`,
        works: async () => {
          const current = parseSecretValue('degreed-client-credentials', await readCurrent(id));
          return degreed.state.clients().some((c) => c.clientId === current.clientId && c.clientSecret === current.clientSecret && !c.revoked);
        },
        orphans: async () => 0,
      });
    }
    for (let i = 0; i < n.learnlink; i += 1) {
      const tenant = learnlink.state.addTenant();
      const id = `learnlink-${i}`;
      await store.putCurrent(secretIdOf(id), JSON.stringify({ clientSecret: tenant.clientSecret }));
      entries.push({
        id,
        kind: 'learn.link',
        credentialKind: 'learnlink-client-credentials',
        secretId: secretIdOf(id),
        yaml: `    kind: learnlink-client-credentials\n    tenantId: ${tenant.tenantId}\n    environment: production\n    audience: api\n    scopes: [api/read]\n    probe: true\n    endpoints: { tokenUrl: "${learnlink.tokenUrl.api}", apiBase: "${learnlink.apiBase}" }`,
        works: async () => {
          const current = parseSecretValue('learnlink-client-credentials', await readCurrent(id));
          return learnlink.state.tenants().some((t) => t.tenantId === tenant.tenantId && t.clientSecret === current.clientSecret);
        },
        orphans: async () => 0,
      });
    }
    const hookSecret = `whsec_${randomUUID().replaceAll('-', '')}`;
    const inventory = [
      'version: 1',
      'defaults:',
      '  revokePreviousAfter: 0s',
      '  forceCooldown: 0s',
      'credentials:',
      ...entries.map((e) => `  - id: ${e.id}\n    secretId: ${e.secretId}\n${e.yaml}`),
      'alerts:',
      '  - id: hook',
      '    kind: webhook',
      `    url: ${receiver.url}/webhook`,
      '    signingSecret: { env: SOAK_HOOK_SECRET }',
    ].join('\n');
    const configPath = join(ctx.dir, 'fault-soak.yaml');
    writeFileSync(configPath, `${inventory}\n`);
    ctx.log(`fault soak: ${entries.length} credentials; ${FAULT_RATE * 100} % of provider and Secrets Manager calls fail`);

    // 2. Two workers; every call they make may fail.
    const env = {
      ROTATOR_CONFIG: configPath,
      ROTATOR_QUEUE_PREFIX: prefix,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: sm.url,
      ROTATOR_LOCK_DURATION: '5s',
      ROTATOR_REQUEST_TIMEOUT: '1s',
      ROTATOR_CREDLY_RATE_LIMIT: 'off',
      ROTATOR_CONCURRENCY: '16',
      SOAK_HOOK_SECRET: hookSecret,
      LOG_LEVEL: 'info',
    };
    for (let i = 0; i < 2; i += 1) workers.push(spawnRotator(['worker'], env));
    await Promise.all(workers.map((w) => w.waitForLog('worker: started', 60_000)));
    const seed = ctx.seed;
    credly.faults.setRandom({ rate: FAULT_RATE, seed, kinds: PROVIDER_FAULTS });
    degreed.faults.setRandom({ rate: FAULT_RATE, seed: seed + 1, kinds: PROVIDER_FAULTS });
    learnlink.faults.setRandom({ rate: FAULT_RATE, seed: seed + 2, kinds: PROVIDER_FAULTS });
    sm.setRandom({ rate: FAULT_RATE, seed: seed + 3, faults: SM_FAULTS });

    const checkAll = async (round: number) => {
      // As a shared schedule fires them: Credly organizations interleaved.
      const ordered = interleaveByBudget(
        entries.map((e) => ({ id: e.id, kind: e.credentialKind, organizationId: e.organizationId })),
        budgetOf,
      );
      // Two tries: with a fifth of all calls failing some jobs fail for good, and each must alert once.
      const options = { attempts: 2, backoff: { type: 'exponential', delay: 200 }, removeOnComplete: false, removeOnFail: false };
      await queue.addBulk(
        ordered.map((e) => ({
          name: 'check-credential',
          data: { credentialId: e.id, trigger: 'schedule', force: false },
          opts: { ...options, jobId: `soak-${round}-${e.id}` },
        })),
      );
      const deadline = Date.now() + (ctx.scale === 'full' ? 1_800_000 : 300_000);
      for (;;) {
        const counts = await queue.getJobCounts('completed', 'failed');
        const done = (counts.completed ?? 0) + (counts.failed ?? 0);
        if (done >= entries.length * round) return;
        if (Date.now() > deadline) throw new Error(`round ${round}: only ${done} of ${entries.length * round} jobs finished in time`);
        await sleep(500);
      }
    };
    const started = performance.now();
    await checkAll(1);
    const faultedSeconds = (performance.now() - started) / 1000;
    const injected = credly.faults.applied.length + degreed.faults.applied.length + learnlink.faults.applied.length + sm.appliedRandom();
    credly.faults.clear();
    degreed.faults.clear();
    learnlink.faults.clear();
    sm.clear();
    const failedForGood = (await queue.getFailed(0, -1)).map((j) => (j.data as { credentialId: string }).credentialId);
    ctx.log(`fault soak: faulted round in ${faultedSeconds.toFixed(0)} s, ${injected} faults injected, ${failedForGood.length} job(s) failed for good`);

    // Alerts go out as the last attempt fails; give the senders a moment.
    const failureAlerts = () => receiver.on('/webhook').filter((r) => r.json.type === 'failure');
    for (let i = 0; i < 40 && failureAlerts().length < failedForGood.length; i += 1) await sleep(250);
    await sleep(1_000);
    const alerted = failureAlerts().length;

    // 3. No faults: every credential once more, as the next schedule would (resumes, reaps).
    await checkAll(2);
    const secondRoundFailed = (await queue.getFailed(0, -1)).length - failedForGood.length;

    // 4. The counts.
    let lost = 0;
    let orphans = 0;
    const lostIds: string[] = [];
    for (const e of entries) {
      if (!(await e.works())) {
        lost += 1;
        lostIds.push(e.id);
      }
      orphans += await e.orphans();
    }
    const logs = workers.map((w) => w.output()).join('\n');
    const finishedPerCredential = new Map<string, number>();
    for (const line of logs.split('\n')) {
      if (!line.includes('"rotation: finished"')) continue;
      const id = /"credentialId":"([^"]+)"/.exec(line)?.[1];
      if (id) finishedPerCredential.set(id, (finishedPerCredential.get(id) ?? 0) + 1);
    }
    const duplicates = [...finishedPerCredential.values()].filter((count) => count > 1).length;
    const rotated = finishedPerCredential.size;
    const secrets = [
      hookSecret,
      ...credly.state.tokens().map((t) => t.token),
      ...credly.state.applications().map((a) => a.secret),
      ...degreed.state.clients().map((c) => c.clientSecret),
      ...degreed.state.issuedAccessTokens().map((t) => t.value),
      ...learnlink.state.tenants().map((t) => t.clientSecret),
      ...learnlink.state.issuedAccessTokens().map((t) => t.value),
    ];
    const { text: redisText } = await dumpRedis(redis, `${prefix}*`);
    const alertText = receiver.received.map((r) => r.body).join('\n');
    const leaks = {
      redis: secrets.filter((s) => redisText.includes(s)).length,
      logs: secrets.filter((s) => logs.includes(s)).length,
      alerts: secrets.filter((s) => alertText.includes(s)).length,
    };
    const expectRotated = n.tokens + n.apps;
    return [
      {
        scenario: SCENARIO,
        figure: 'checks run (faulted round)',
        value: `${entries.length} in ${faultedSeconds.toFixed(0)} s, ${injected} faults injected`,
        target: '-',
        ok: injected > 0,
      },
      countRow(SCENARIO, 'credentials lost (AWSCURRENT refused at the fake)', lost, 0, lostIds.slice(0, 5).join(', ')),
      countRow(SCENARIO, 'rotations finished (tokens due + applications lost)', rotated, expectRotated),
      countRow(SCENARIO, 'duplicate rotations', duplicates, 0),
      countRow(SCENARIO, 'live orphans after the reconciling round', orphans, 0),
      {
        scenario: SCENARIO,
        figure: 'failure alerts sent / jobs failed for good',
        value: `${alerted} / ${failedForGood.length}`,
        target: 'equal, and some',
        // Equal, and not trivially: the faulted round must make some jobs fail for good.
        ok: alerted === failedForGood.length && failedForGood.length > 0,
      },
      countRow(SCENARIO, 'jobs failing once the faults stop', secondRoundFailed, 0),
      countRow(SCENARIO, 'secret values in Redis', leaks.redis, 0),
      countRow(SCENARIO, 'secret values in the logs', leaks.logs, 0),
      countRow(SCENARIO, 'secret values in alert bodies', leaks.alerts, 0),
    ];
  } finally {
    for (const worker of workers) worker.child.kill('SIGKILL');
    await Promise.all(workers.map((w) => w.exited));
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
    redis.disconnect();
    await Promise.all([credly.close(), degreed.close(), learnlink.close(), receiver.close(), sm.close()]);
  }
};
