import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DescribeSecretCommand } from '@aws-sdk/client-secrets-manager';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkCredentialJob } from '../../jobs/check-credential.job.ts';
import { buildSinks } from '../../src/alerts/build-sinks.ts';
import { parseInventory } from '../../src/kinds/registry.ts';
import { createJobDependencies, createKinds } from '../../src/composition-root.ts';
import { createQueue } from '../../src/queue/producer.ts';
import { createSecretStore, createSecretsManagerClient } from '../../src/secrets/secret-store.ts';
import { startCredlyFake, type CredlyFake } from '../fakes/credly.fake.ts';
import { startDegreedFake, type DegreedFake } from '../fakes/degreed.fake.ts';
import { startLearnlinkFake, type LearnlinkFake } from '../fakes/learnlink.fake.ts';
import { captureLogger } from '../support/capture-logger.ts';
import { actionsOf, allowing, checkShape, type Policy } from '../support/iam-policy.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const policy = JSON.parse(readFileSync(join(root, 'docs/iam-policy.json'), 'utf8')) as Policy;
const DAY = 86_400_000;
const VIA = 'secretsmanager.eu-west-1.amazonaws.com';
/** A secret's ARN as Secrets Manager makes it: the name and a random six-character suffix. */
const arnOf = (name: string) => `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${name}-AbCdEf`;

/** Every Secrets Manager command written in the source: `new XCommand(` in files importing the SDK. */
function commandsInSource(): Set<string> {
  const found = new Set<string>();
  for (const file of sourceFiles()) {
    const text = readFileSync(file, 'utf8');
    if (!text.includes("from '@aws-sdk/client-secrets-manager'")) continue;
    for (const m of text.matchAll(/new (\w+)Command\(/g)) found.add(`secretsmanager:${m[1]}`);
  }
  return found;
}

function sourceFiles(): string[] {
  return ['src', 'jobs'].flatMap((base) =>
    (readdirSync(join(root, base), { recursive: true }) as string[]).filter((f) => f.endsWith('.ts')).map((f) => join(root, base, f)),
  );
}

/** The secret-store methods the rest of the code calls (`secrets.readCurrent(`, `store.readCurrent(`…), outside the store itself. */
function storeMethodsCalled(): Set<string> {
  const found = new Set<string>();
  for (const file of sourceFiles().filter((f) => !f.includes(`${join('src', 'secrets')}`))) {
    for (const m of readFileSync(file, 'utf8').matchAll(/\b(?:secrets|store)\.(\w+)\(/g)) found.add(m[1]!);
  }
  return found;
}

/** What the code sent, by action and secret: recorded by a middleware on the real SDK client. */
interface Sent {
  action: string;
  secret: string;
  /** The request's condition keys IAM evaluates: a created secret's name, KMS key and tags. */
  context: Record<string, string>;
}

/** The customer-managed key of the policy, and the tag its conditions require of a created secret. */
const KEY = 'arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555';
const TAGS = { 'managed-by': 'credential-rotator', team: 'platform' };

/**
 * Commands that need a second permission without a command of their own: CreateSecret with tags
 * also needs TagResource on the secret (Secrets Manager's CreateSecret reference).
 */
const IMPLIED = ['secretsmanager:TagResource'];

function recordingClient(sent: Sent[]) {
  const client = createSecretsManagerClient();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { SecretId?: string; Name?: string; KmsKeyId?: string; Tags?: Array<{ Key: string; Value: string }> };
      const action = `secretsmanager:${String(context.commandName).replace(/Command$/, '')}`;
      const secret = input.SecretId ?? input.Name ?? '';
      const tags = Object.fromEntries((input.Tags ?? []).map((t) => [`aws:RequestTag/${t.Key}`, t.Value]));
      const keys =
        action === 'secretsmanager:CreateSecret'
          ? { 'secretsmanager:Name': secret, ...(input.KmsKeyId ? { 'secretsmanager:KmsKeyId': input.KmsKeyId } : {}), ...tags }
          : {};
      sent.push({ action, secret, context: keys });
      if (action === 'secretsmanager:CreateSecret' && input.Tags?.length) sent.push({ action: 'secretsmanager:TagResource', secret, context: tags });
      return next(args);
    },
    { step: 'initialize', name: 'recordSecretsManagerCommands' },
  );
  return client;
}

/** Calls each store method on a fresh secret and returns the commands it sent: the store's own answer to "what does this method need". */
async function commandsOfMethods(methods: Set<string>): Promise<{ commands: Set<string>; unknown: string[] }> {
  const sent: Sent[] = [];
  const store = createSecretStore(recordingClient(sent));
  const name = `prod/credly/iam-methods-${randomUUID().slice(0, 8)}`;
  const first = randomUUID();
  const second = randomUUID();
  const calls: Record<string, () => Promise<unknown>> = {
    create: () => store.create(name, first, '{"v":1}', { kmsKeyId: KEY, tags: TAGS }),
    readCurrent: () => store.readCurrent(name),
    putPending: () => store.putPending(name, second, '{"v":2}'),
    readPending: () => store.readPending(name),
    readVersion: () => store.readVersion(name, second),
    promote: () => store.promote(name, second),
    readStage: () => store.readStage(name, 'AWSPREVIOUS'),
    versionCreatedAt: () => store.versionCreatedAt(name, first),
    // The revoke guard takes AWSPREVIOUS off the replaced version before it revokes.
    unlabel: () => store.unlabel(name, 'AWSPREVIOUS', first),
    putCurrent: () => store.putCurrent(name, '{"v":3}'),
    listVersions: () => store.listVersions(name),
  };
  const unknown = [...methods].filter((m) => !calls[m]);
  // In this order: the secret exists before it is read, a pending version before it is promoted.
  for (const [method, call] of Object.entries(calls)) if (methods.has(method)) await call();
  return { commands: new Set(sent.map((s) => s.action)), unknown };
}

let credly: CredlyFake;
let degreed: DegreedFake;
let learnlink: LearnlinkFake;
beforeAll(async () => {
  [credly, degreed, learnlink] = await Promise.all([startCredlyFake(), startDegreedFake(), startLearnlinkFake()]);
});
afterAll(async () => Promise.all([credly.close(), degreed.close(), learnlink.close()]));

/** Runs every kind's check (a Credly token rotated, an OAuth application whose secret is missing recreated, both validations) and reads a sink secret. */
async function recordAllFlows(): Promise<{
  sent: Sent[];
  created: { KmsKeyId?: string | undefined; Tags?: Array<{ Key?: string; Value?: string }> | undefined };
}> {
  const sent: Sent[] = [];
  const store = createSecretStore(recordingClient(sent));
  const direct = createSecretStore(createSecretsManagerClient());
  const run = randomUUID().slice(0, 8);
  const names = {
    token: `prod/credly/iam-${run}/token`,
    app: `prod/credly/iam-${run}/app`,
    degreed: `prod/degreed/iam-${run}`,
    learnlink: `prod/learnlink/iam-${run}`,
    slack: `prod/alerts/iam-${run}/slack`,
  };
  const org = credly.state.addOrganization(`Org ${run}`);
  const token = credly.state.addToken(org, { createdAt: new Date(Date.now() - 170 * DAY) });
  const dg = degreed.state.addClient({ scopes: ['users:read'] });
  const tenant = learnlink.state.addTenant();
  await direct.putCurrent(names.token, JSON.stringify({ token: token.token, tokenId: token.id }));
  await direct.putCurrent(names.degreed, JSON.stringify(dg));
  await direct.putCurrent(names.learnlink, JSON.stringify({ clientSecret: tenant.clientSecret }));
  await direct.putCurrent(names.slack, 'http://127.0.0.1:9/slack-webhook');
  // The replaced token revoked at once: the flows include the revoke's calls.
  const inventory = parseInventory(`version: 1
defaults:
  revokePreviousAfter: 0s
  kmsKeyId: ${KEY}
  tags: { managed-by: ${TAGS['managed-by']}, team: ${TAGS.team} }
credentials:
  - id: token
    kind: credly-authorization-token
    secretId: ${names.token}
    organizationId: ${org}
    environment: production
    endpoints: { apiBase: "${credly.apiBase}" }
  - id: app
    kind: credly-oauth-application
    secretId: ${names.app}
    organizationId: ${org}
    environment: production
    managedBy: token
    applicationName: LMS badge sync
    scopes: [issued_badges]
    endpoints: { apiBase: "${credly.apiBase}", tokenUrl: "${credly.tokenUrl}" }
  - id: degreed
    kind: degreed-client-credentials
    secretId: ${names.degreed}
    environment: production
    dataCenter: US
    scopes: [users:read]
    endpoints: { tokenUrl: "${degreed.tokenUrl}", apiBase: "${degreed.apiBase}" }
  - id: learnlink
    kind: learnlink-client-credentials
    secretId: ${names.learnlink}
    tenantId: ${tenant.tenantId}
    environment: production
    audience: api
    scopes: [api/read]
    endpoints: { tokenUrl: "${learnlink.tokenUrl.api}", apiBase: "${learnlink.apiBase}" }
alerts:
  - id: slack
    kind: slack
    webhookUrl: { secretId: ${names.slack} }
`);
  await buildSinks(inventory.alerts, { secrets: store });
  const redis = new Redis(process.env.REDIS_URL!, { maxRetriesPerRequest: null });
  const prefix = `{iam-${run}}`;
  const queue = createQueue(redis, prefix);
  try {
    const deps = createJobDependencies({
      inventory,
      secrets: store,
      redis,
      queue,
      prefix,
      lockDurationMs: 5_000,
      kinds: createKinds({ inventory, secrets: store }),
    });
    const { logger } = captureLogger();
    for (const credentialId of ['token', 'app', 'degreed', 'learnlink']) {
      const outcome = await checkCredentialJob.handle(
        deps,
        { credentialId, trigger: 'manual', force: false },
        { jobId: `iam-${run}-${credentialId}`, attempt: 1, logger },
      );
      expect(outcome.status, credentialId).toBe('success');
    }
  } finally {
    await queue.obliterate({ force: true });
    await queue.close();
    redis.disconnect();
  }
  // The application's secret did not exist: the rotator created it with the key and the tags.
  const created = await createSecretsManagerClient().send(new DescribeSecretCommand({ SecretId: names.app }));
  return { sent, created };
}

describe('the least-privilege IAM policy (docs/iam-policy.json)', () => {
  it('is a policy this check understands, with no wildcard action', () => {
    expect(checkShape(policy)).toEqual([]);
  });

  it('grants exactly the Secrets Manager commands the code sends: none missing, none unused', async () => {
    // What the code sends: the commands of every store method it calls (a resumed rotation's too).
    const methods = storeMethodsCalled();
    expect(methods.has('readCurrent') && methods.has('putPending') && methods.has('promote')).toBe(true);
    const { commands, unknown } = await commandsOfMethods(methods);
    expect(unknown, 'store methods this test does not know how to call: add them to commandsOfMethods').toEqual([]);
    const granted = new Set([...actionsOf(policy)].filter((a) => a.startsWith('secretsmanager:')));
    expect([...granted].sort()).toEqual([...commands].sort());
    // Every granted command is written in the source; one written there that no called method sends
    // (ListSecretVersionIds, behind listVersions, which only the tests use) is not granted.
    for (const action of granted) if (!IMPLIED.includes(action)) expect(commandsInSource()).toContain(action);
  });

  it('allows every call the flows make, on that secret, and its KMS use; grants nothing they do not use; reads only for Degreed, Learn.link and sinks', async () => {
    const { sent, created } = await recordAllFlows();
    expect(created.KmsKeyId).toBe(KEY);
    expect(Object.fromEntries((created.Tags ?? []).map((t) => [t.Key, t.Value]))).toEqual(TAGS);
    const kmsFor = (s: Sent) =>
      s.action === 'secretsmanager:PutSecretValue' || s.action === 'secretsmanager:CreateSecret'
        ? 'kms:GenerateDataKey'
        : s.action === 'secretsmanager:GetSecretValue'
          ? 'kms:Decrypt'
          : undefined;
    const contextOf = (s: Sent): Record<string, string> => s.context;
    const used = new Set<string>();
    const refused: string[] = [];
    for (const s of sent) {
      const statements = allowing(policy, s.action, arnOf(s.secret), contextOf(s));
      if (!statements.length) refused.push(`${s.action} on ${s.secret}`);
      for (const st of statements) used.add(`${st.Sid} ${s.action} ${s.secret.split('/').slice(0, 2).join('/')}`);
      const kms = kmsFor(s);
      if (!kms) continue;
      const keyStatements = allowing(policy, kms, 'arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555', {
        'kms:ViaService': VIA,
        'kms:EncryptionContext:SecretARN': arnOf(s.secret),
      });
      if (!keyStatements.length) refused.push(`${kms} for ${s.secret}`);
      for (const st of keyStatements) used.add(`${st.Sid} ${kms} ${s.secret.split('/').slice(0, 2).join('/')}`);
    }
    expect(refused).toEqual([]);

    // The flows send every command the policy grants, so each grant below is exercised.
    expect(new Set(sent.map((s) => s.action))).toEqual(new Set([...actionsOf(policy)].filter((a) => a.startsWith('secretsmanager:'))));
    // Nothing granted goes unused: each action of each statement, on each resource pattern, served a call.
    const grants = policy.Statement.flatMap((st) => {
      const patterns = st.Action.toString().startsWith('kms:')
        ? [st.Condition?.StringLike?.['kms:EncryptionContext:SecretARN'] ?? []].flat()
        : [st.Resource].flat();
      return [st.Action].flat().flatMap((action) => patterns.map((p) => `${st.Sid} ${action} ${p.split(':secret:')[1]!.split('/').slice(0, 2).join('/')}`));
    });
    expect(grants.filter((g) => !used.has(g))).toEqual([]);

    // Read-only secrets: the code only reads them, and the policy allows nothing else on them (nor their key use).
    for (const name of ['prod/degreed/x', 'prod/learnlink/x', 'prod/alerts/x']) {
      const onIt = [...actionsOf(policy)].filter(
        (a) =>
          allowing(policy, a, arnOf(name), { 'secretsmanager:Name': name, 'secretsmanager:KmsKeyId': KEY, 'aws:RequestTag/managed-by': 'credential-rotator' })
            .length,
      );
      expect(onIt, name).toEqual(['secretsmanager:GetSecretValue']);
      expect(
        allowing(policy, 'kms:GenerateDataKey', 'arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555', {
          'kms:ViaService': VIA,
          'kms:EncryptionContext:SecretARN': arnOf(name),
        }),
      ).toEqual([]);
    }
    const readOnly = sent.filter((s) => !s.secret.startsWith('prod/credly/'));
    expect(new Set(readOnly.map((s) => s.action))).toEqual(new Set(['secretsmanager:GetSecretValue']));
    // CreateSecret only under the prefix, even for a name the resource pattern would let through;
    // only with the customer-managed key and the rotator's tag.
    const creating = { 'secretsmanager:Name': 'prod/credly/x', 'secretsmanager:KmsKeyId': KEY, 'aws:RequestTag/managed-by': 'credential-rotator' };
    expect(allowing(policy, 'secretsmanager:CreateSecret', arnOf('prod/credly/x'), creating)).toHaveLength(1);
    expect(allowing(policy, 'secretsmanager:CreateSecret', arnOf('prod/credly/x'), { ...creating, 'secretsmanager:Name': 'prod/other/x' })).toEqual([]);
    expect(
      allowing(policy, 'secretsmanager:CreateSecret', arnOf('prod/credly/x'), { ...creating, 'secretsmanager:KmsKeyId': 'alias/aws/secretsmanager' }),
    ).toEqual([]);
    expect(allowing(policy, 'secretsmanager:CreateSecret', arnOf('prod/credly/x'), { ...creating, 'aws:RequestTag/managed-by': 'someone' })).toEqual([]);
    expect(allowing(policy, 'secretsmanager:TagResource', arnOf('prod/credly/x'), { 'aws:RequestTag/managed-by': 'someone' })).toEqual([]);
    // KMS only through Secrets Manager, only for these secrets.
    expect(
      allowing(policy, 'kms:Decrypt', 'arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555', {
        'kms:ViaService': 's3.eu-west-1.amazonaws.com',
        'kms:EncryptionContext:SecretARN': arnOf('prod/credly/x'),
      }),
    ).toEqual([]);
    expect(
      allowing(policy, 'kms:Decrypt', 'arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555', {
        'kms:ViaService': VIA,
        'kms:EncryptionContext:SecretARN': arnOf('prod/payroll/db'),
      }),
    ).toEqual([]);
  }, 60_000);

  it('is the policy docs/install.md shows', () => {
    const install = readFileSync(join(root, 'docs/install.md'), 'utf8');
    const shown = /### The least-privilege policy[\s\S]*?```json\n([\s\S]*?)```/.exec(install)?.[1];
    expect(shown && JSON.parse(shown)).toEqual(policy);
  });
});
