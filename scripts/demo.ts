/**
 * `npm run demo`: the whole worker on local stand-ins. Starts Redis, the Secrets Manager emulator
 * and the provider fakes; seeds demo secrets; runs `rotator worker` as its own process on a demo
 * inventory; triggers a check of every credential; prints what happened; stops everything.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { formatTable } from '../src/cli/table.ts';
import { QUEUE_NAME } from '../src/config/queue-names.ts';
import { createQueue, enqueue } from '../src/queue/producer.ts';
import { createSecretStore, createSecretsManagerClient } from '../src/secrets/secret-store.ts';
import { parseSecretValue } from '../src/kinds/registry.ts';
import { startCredlyFake } from '../test/fakes/credly.fake.ts';
import { startDegreedFake } from '../test/fakes/degreed.fake.ts';
import { startLearnlinkFake } from '../test/fakes/learnlink.fake.ts';
import { dumpRedis } from '../test/support/redis-dump.ts';
import { spawnRotator } from '../test/support/worker-process.ts';
import { emulatorAwsEnv, startLocalServices } from './local-services.ts';

const DAY = 86_400_000;
const step = (text: string) => console.log(`\n▸ ${text}`);

interface ReceivedEvent {
  type: string;
  credentialId: string;
  versionId?: string;
  verified: boolean;
}

/** A consumer's endpoint on a free loopback port: records each event and whether its signature holds. */
async function startEventReceiver(secret: string): Promise<{ url: string; events: ReceivedEvent[]; close(): Promise<void> }> {
  const events: ReceivedEvent[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      const timestamp = String(req.headers['x-rotator-timestamp']);
      const expected = `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
      events.push({ ...(JSON.parse(body) as Omit<ReceivedEvent, 'verified'>), verified: req.headers['x-rotator-signature'] === expected });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/rotator-events`,
    events,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function main(): Promise<number> {
  const run = randomUUID().slice(0, 8);
  const dir = mkdtempSync(join(tmpdir(), 'rotator-demo-'));
  const cleanups: Array<() => Promise<void> | void> = [() => rmSync(dir, { recursive: true, force: true })];
  const cleanup = async () => {
    for (const fn of cleanups.reverse()) await fn();
  };
  try {
    step('starting local stand-ins: Redis, Secrets Manager emulator, Credly / Degreed / Learn.link fakes');
    const services = await startLocalServices();
    cleanups.push(() => services.stop());
    const awsEnv = emulatorAwsEnv(services.secretsManagerEndpoint);
    Object.assign(process.env, awsEnv);
    const [credly, degreed, learnlink] = await Promise.all([startCredlyFake(), startDegreedFake(), startLearnlinkFake()]);
    cleanups.push(
      () => credly.close(),
      () => degreed.close(),
      () => learnlink.close(),
    );
    console.log(`  redis ${services.redisUrl}  secrets manager ${services.secretsManagerEndpoint}`);
    console.log(`  credly ${credly.apiBase}  degreed ${degreed.tokenUrl}  learn.link ${learnlink.publicBase}`);

    step('seeding the providers and Secrets Manager');
    const org = credly.state.addOrganization('Demo Academy');
    const token = credly.state.addToken(org, { description: 'LMS badge issuing', createdAt: new Date(Date.now() - 160 * DAY) });
    const app = credly.state.addApplication(org, { name: 'LMS badge sync', scopes: ['issued_badges', 'badge_templates'] });
    const degreedClient = degreed.state.addClient({ scopes: ['users:read', 'content:read'] });
    const tenant = learnlink.state.addTenant({ scopes: ['api/read'] });
    const store = createSecretStore(createSecretsManagerClient());
    const secrets = {
      token: `demo/${run}/credly-main`,
      app: `demo/${run}/credly-badge-sync`,
      degreed: `demo/${run}/degreed-us`,
      learnlink: `demo/${run}/thrive-api`,
      broken: `demo/${run}/degreed-broken`,
    };
    await store.putCurrent(secrets.token, JSON.stringify({ token: token.token, tokenId: token.id, organizationId: org }));
    // Someone overwrote the application's client secret; Credly never shows it again: recreate.
    await store.putCurrent(secrets.app, JSON.stringify({ clientId: app.uid, clientSecret: 'credlysecret_lost-in-a-bad-paste', applicationId: app.id }));
    await store.putCurrent(secrets.degreed, JSON.stringify(degreedClient));
    await store.putCurrent(secrets.learnlink, JSON.stringify({ clientSecret: tenant.clientSecret }));
    // A secret someone saved by hand without its clientSecret: the check must say so, clearly.
    await store.putCurrent(secrets.broken, JSON.stringify({ clientId: degreedClient.clientId }));
    // A token someone made by hand for an export, which nothing rotates: the expiry radar names it.
    const handMade = credly.state.addToken(org, { description: 'HR export (made by hand)', expiresAt: new Date(Date.now() + 12 * DAY + 60_000) });
    const daysLeft = Math.floor((token.expiresAt.getTime() - Date.now()) / DAY);
    console.log(`  5 secrets under demo/${run}/`);
    console.log(`  before: credly-main holds Credly token ${token.id}, which expires in ${daysLeft} days (rotate within 30d)`);
    console.log(`          credly-badge-sync holds application ${app.id} with a client secret Credly refuses (lost)`);
    console.log(`          Credly token ${handMade.id} ("HR export (made by hand)") is in no secret, and expires in 12 days`);

    // A consumer's endpoint for the rotator's events: it checks each signature as docs/operations.md shows.
    const eventsSecret = `demo-events-${randomUUID()}`;
    const receiver = await startEventReceiver(eventsSecret);
    cleanups.push(() => receiver.close());

    const inventoryPath = join(dir, 'inventory.yaml');
    writeFileSync(
      inventoryPath,
      `version: 1
defaults:
  schedule: "0 3 * * *"
  rotateWhenExpiresWithin: 30d
  # The demo shows the revoke at once; in production keep the default hour (docs/configuration.md, Inventory).
  revokePreviousAfter: 0s
credentials:
  - id: credly-main
    kind: credly-authorization-token
    secretId: ${secrets.token}
    organizationId: ${org}
    environment: sandbox
    endpoints: { apiBase: "${credly.apiBase}" }
  - id: credly-badge-sync
    kind: credly-oauth-application
    secretId: ${secrets.app}
    organizationId: ${org}
    environment: sandbox
    managedBy: credly-main
    applicationName: LMS badge sync
    scopes: [issued_badges, badge_templates]
    endpoints: { apiBase: "${credly.apiBase}", tokenUrl: "${credly.tokenUrl}" }
  - id: degreed-us
    kind: degreed-client-credentials
    secretId: ${secrets.degreed}
    environment: betatest
    dataCenter: US
    scopes: [users:read]
    probe: true
    logoutPath: /oauth/logout
    endpoints: { tokenUrl: "${degreed.tokenUrl}", apiBase: "${degreed.apiBase}" }
  - id: thrive-api
    kind: learnlink-client-credentials
    secretId: ${secrets.learnlink}
    tenantId: ${tenant.tenantId}
    environment: staging
    audience: api
    scopes: [api/read]
    endpoints: { tokenUrl: "${learnlink.tokenUrl.api}", apiBase: "${learnlink.apiBase}" }
  - id: degreed-broken
    kind: degreed-client-credentials
    secretId: ${secrets.broken}
    environment: betatest
    dataCenter: EU
    scopes: [users:read]
    endpoints: { tokenUrl: "${degreed.tokenUrl}", apiBase: "${degreed.apiBase}" }
events:
  # The LMS that reads the Credly secrets, told of each rotation so it reloads at once.
  - id: lms
    url: ${receiver.url}
    signingSecret: { env: DEMO_EVENTS_SECRET }
    credentials: [credly-main, credly-badge-sync]
`,
    );
    const prefix = `{demo-${run}}`;
    const env = {
      ...awsEnv,
      REDIS_URL: services.redisUrl,
      ROTATOR_CONFIG: inventoryPath,
      ROTATOR_QUEUE_PREFIX: prefix,
      ROTATOR_RADAR: 'on',
      DEMO_EVENTS_SECRET: eventsSecret,
    };

    step('rotator check --config-only');
    const check = spawnRotator(['check', '--config-only'], env);
    await check.exited;
    console.log(`  ${check.output()}`);

    step('starting `rotator worker` (its own process)');
    const worker = spawnRotator(['worker'], env);
    cleanups.push(async () => {
      if (worker.child.exitCode === null) {
        worker.child.kill('SIGTERM');
        await worker.exited;
      }
    });
    await worker.waitForLog('worker: started', 30_000);
    console.log(`  worker pid ${worker.child.pid} is up`);
    const radarLine = (await worker.waitForLog('radar: ran', 30_000)) as { tokens?: number; unmanagedExpiring?: number; within?: string };
    console.log(
      `  its expiry radar listed ${radarLine.tokens} Credly tokens: ${radarLine.unmanagedExpiring} that no credential manages expire within ${radarLine.within}`,
    );

    step('triggering a check of every credential');
    const redis = new Redis(services.redisUrl, { maxRetriesPerRequest: null });
    const queue = createQueue(redis, prefix);
    // BullMQ duplicates a shared connection for QueueEvents' blocking reads and closes only its
    // own copy, so the demo closes the connections it made itself.
    const eventsConnection = redis.duplicate();
    const events = new QueueEvents(QUEUE_NAME, { connection: eventsConnection, prefix });
    cleanups.push(async () => {
      await events.close();
      await queue.obliterate({ force: true });
      await queue.close();
      eventsConnection.disconnect();
      redis.disconnect();
    });
    await events.waitUntilReady();
    const ids = ['credly-main', 'credly-badge-sync', 'degreed-us', 'thrive-api', 'degreed-broken'];
    const rows: string[][] = [];
    for (const credentialId of ids) {
      // Bad input fails at once: a retry cannot make a stored secret well-formed.
      const job = await enqueue(queue, 'check-credential', { credentialId, trigger: 'manual' }, { attempts: 3, backoff: { type: 'fixed', delay: 200 } });
      try {
        const outcome = (await job.waitUntilFinished(events, 30_000)) as { status: string; summary: string };
        rows.push([credentialId, outcome.status, outcome.summary]);
      } catch (error) {
        rows.push([credentialId, 'FAILED', (error as Error).message]);
      }
    }
    console.log(formatTable(['CREDENTIAL', 'RESULT', 'DETAIL'], rows).replace(/^/gm, '  '));
    const after = parseSecretValue('credly-authorization-token', (await store.readCurrent(secrets.token)).secretString);
    const afterDays = after.expiresAt ? Math.floor((Date.parse(after.expiresAt) - Date.now()) / DAY) : NaN;
    console.log(`  after:  credly-main holds Credly token ${after.tokenId ?? '?'}, which expires in ${afterDays} days`);
    console.log(
      `          the new token works at Credly: ${credly.state.isTokenValid(after.token) ? 'yes' : 'NO'}; the old token is revoked: ${credly.state.isTokenValid(token.token) ? 'NO' : 'yes'}`,
    );
    const appAfter = parseSecretValue('credly-oauth-application', (await store.readCurrent(secrets.app)).secretString);
    const appWorks = credly.state.isClientValid(appAfter.clientId, appAfter.clientSecret);
    const oldAppGone = credly.state.findApplication(org, app.id) === undefined;
    console.log(
      `          credly-badge-sync holds application ${appAfter.applicationId}: its client secret works: ${appWorks ? 'yes' : 'NO'}; application ${app.id} deleted: ${oldAppGone ? 'yes' : 'NO'}`,
    );
    // Events reach the consumer just after the jobs that established them end.
    const deadline = Date.now() + 15_000;
    while (receiver.events.length < 4 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    for (const e of receiver.events)
      console.log(`          the LMS was told: ${e.type} for ${e.credentialId} (signature ${e.verified ? 'verified' : 'WRONG'})`);
    const told =
      receiver.events.length === 4 &&
      receiver.events.every((e) => e.verified) &&
      receiver.events.some((e) => e.type === 'credential.rotated' && e.credentialId === 'credly-main' && e.versionId !== undefined);
    const rotated =
      told && after.tokenId !== token.id && credly.state.isTokenValid(after.token) && !credly.state.isTokenValid(token.token) && appWorks && oldAppGone;

    step('rotator radar: every token of the organization, and who manages it (read-only)');
    const radar = spawnRotator(['radar'], env);
    const radarExit = await radar.exited;
    console.log(radar.output().trimEnd().replace(/^/gm, '  '));
    console.log(`  exit code ${radarExit.code}: a token nobody manages expires within the window`);
    const radarNamed = radarExit.code === 1 && new RegExp(`${handMade.id}.*EXPIRES SOON.*NOBODY`).test(radar.output());

    step('stopping the worker (SIGTERM: active jobs finish first)');
    worker.child.kill('SIGTERM');
    const exit = await worker.exited;
    console.log(`  worker exited with code ${exit.code}`);

    const values = [
      ...credly.state.tokens(org).map((t) => t.token),
      app.secret,
      appAfter.clientSecret,
      ...credly.state.liveAccessTokens().map((a) => a.value),
      degreedClient.clientSecret,
      ...degreed.state.issuedAccessTokens().flatMap((t) => [t.value, t.refreshToken]),
      tenant.clientSecret,
      ...learnlink.state.issuedAccessTokens().map((t) => t.value),
    ];
    const log = worker.output();
    const leaked = values.filter((v) => log.includes(v)).length;
    const { text: redisText } = await dumpRedis(redis, `${prefix}*`);
    const inRedis = values.filter((v) => redisText.includes(v)).length;
    step('summary');
    const ok = rows.filter((r) => r[1] === 'success').length;
    console.log(`  ${ok} of ${rows.length} credentials checked successfully, ${rows.length - ok} failed with a clear reason`);
    console.log(`  secret values found in the worker's log: ${leaked}; in Redis: ${inRedis}`);
    const expected = rotated && radarNamed && ok === 4 && rows[4]?.[1] === 'FAILED' && leaked === 0 && inRedis === 0 && exit.code === 0;
    if (!expected) console.error('\ndemo: the outcome was not the expected one (see above)');
    return expected ? 0 : 1;
  } finally {
    step('stopping everything the demo started');
    await cleanup();
    console.log('  done');
  }
}

process.exitCode = await main().catch((error: unknown) => {
  console.error(`demo failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  return 1;
});
