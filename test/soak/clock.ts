import { randomUUID } from 'node:crypto';
import { createSecretStore, createSecretsManagerClient } from '../../src/secrets/secret-store.ts';
import { startCredlyFake } from '../fakes/credly.fake.ts';
import { tokenJson } from '../fakes/credly-state.ts';
import { startDegreedFake } from '../fakes/degreed.fake.ts';
import { seededRandom } from '../fakes/faults.ts';
import { startLearnlinkFake } from '../fakes/learnlink.fake.ts';
import { startSoakWorker, type JobResult } from './bad-answers.ts';
import { countRow, type SoakRow, type SoakScenario } from './report.ts';

const SCENARIO = 'clock';
const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** The inventory's default `rotateWhenExpiresWithin`. */
const THRESHOLD = 30 * DAY;

/** What the worker must decide. */
type Decision = 'rotated' | 'not-due' | 'refused' | 'validated';

/**
 * One expiry decision. Times are relative to T0, the scenario's start (whole seconds): the worker's
 * clock stands still at T0 + `worker`; the providers' clocks run at real time + `provider`.
 */
interface ClockCase {
  name: string;
  kind: 'credly-token' | 'credly-oauth' | 'degreed' | 'learnlink';
  /** Skew of the worker's clock against T0. */
  worker?: number;
  /** Skew of the providers' clocks against real time. */
  provider?: number;
  /** Credly token: its expiry, from T0 (or absolute with `expiresAtMs`). */
  expiresIn?: number;
  expiresAtMs?: number;
  /** How Credly writes `expires_at`: `Z` (the fake's own answer) or an offset such as `+05:30`. */
  offset?: string;
  /** Credly OAuth: the application's creation, from T0, by the provider's clock (`recreateEvery: 30d`). */
  createdAgo?: number;
  /** Degreed: the access-token lifetime the provider grants. */
  lifetimeSeconds?: number;
  expect: Decision;
  /** For `validated`: text the summary must hold. */
  summaryHas?: string;
}

const FIXED: ClockCase[] = [
  { name: 'expires in 10 d, written in UTC (Z)', kind: 'credly-token', expiresIn: 10 * DAY + HOUR, expect: 'rotated' },
  { name: 'expires in 10 d, written at +05:30', kind: 'credly-token', expiresIn: 10 * DAY + HOUR, offset: '+05:30', expect: 'rotated' },
  { name: 'expires in 10 d, written at -08:00', kind: 'credly-token', expiresIn: 10 * DAY + HOUR, offset: '-08:00', expect: 'rotated' },
  { name: 'expires in 100 d, written at +05:30', kind: 'credly-token', expiresIn: 100 * DAY + HOUR, offset: '+05:30', expect: 'not-due' },
  { name: 'expires in 45 d, written at -08:00', kind: 'credly-token', expiresIn: 45 * DAY + HOUR, offset: '-08:00', expect: 'not-due' },
  {
    name: 'expires in 30 d and 5 h, written at +14:00 (the day differs from UTC)',
    kind: 'credly-token',
    expiresIn: THRESHOLD + 5 * HOUR,
    offset: '+14:00',
    expect: 'not-due',
  },
  {
    name: 'expires in 29 d and 20 h, written at -12:00 (the day differs from UTC)',
    kind: 'credly-token',
    expiresIn: THRESHOLD - 4 * HOUR,
    offset: '-12:00',
    expect: 'rotated',
  },
  { name: 'far future: 10 years', kind: 'credly-token', expiresIn: 3652 * DAY + HOUR, expect: 'not-due' },
  {
    name: 'far future: the last day of year 9999, at +14:00',
    kind: 'credly-token',
    expiresAtMs: Date.UTC(9999, 11, 30, 10),
    offset: '+14:00',
    expect: 'not-due',
  },
  { name: 'edge: exactly at the threshold (30 d)', kind: 'credly-token', expiresIn: THRESHOLD, expect: 'rotated' },
  { name: 'edge: 1 s past the threshold', kind: 'credly-token', expiresIn: THRESHOLD + SECOND, expect: 'not-due' },
  { name: 'edge: exactly at the threshold, written at -08:00', kind: 'credly-token', expiresIn: THRESHOLD, offset: '-08:00', expect: 'rotated' },
  { name: 'edge: 1 s past the threshold, written at +05:30', kind: 'credly-token', expiresIn: THRESHOLD + SECOND, offset: '+05:30', expect: 'not-due' },
  { name: 'already expired by both clocks: refused, and the failure says so', kind: 'credly-token', expiresIn: -2 * DAY, expect: 'refused' },
  {
    name: 'worker clock 10 min ahead of the provider: due stays due',
    kind: 'credly-token',
    worker: 10 * MINUTE,
    expiresIn: 10 * DAY + HOUR,
    expect: 'rotated',
  },
  {
    name: 'worker clock 10 min behind the provider: not due stays not due',
    kind: 'credly-token',
    worker: -10 * MINUTE,
    expiresIn: 100 * DAY + HOUR,
    expect: 'not-due',
  },
  {
    name: 'worker clock 10 min ahead, token 5 min past the threshold by the provider',
    kind: 'credly-token',
    worker: 10 * MINUTE,
    expiresIn: THRESHOLD + 5 * MINUTE,
    expect: 'rotated',
  },
  { name: 'worker clock 3 d ahead: expired for the worker, live at the provider', kind: 'credly-token', worker: 3 * DAY, expiresIn: DAY, expect: 'rotated' },
  {
    name: 'provider clock 5 d ahead: the token it calls expired is refused, and the failure says so',
    kind: 'credly-token',
    provider: 5 * DAY,
    expiresIn: 2 * DAY,
    expect: 'refused',
  },
  {
    name: 'provider clock 1 h behind, expiry written at +05:30',
    kind: 'credly-token',
    provider: -HOUR,
    expiresIn: 60 * DAY + HOUR,
    offset: '+05:30',
    expect: 'not-due',
  },
  { name: 'OAuth app created 31 d ago (recreateEvery 30d)', kind: 'credly-oauth', createdAgo: 31 * DAY, expect: 'rotated' },
  { name: 'OAuth app created 29 d ago, worker clock 1 h ahead', kind: 'credly-oauth', createdAgo: 29 * DAY, worker: HOUR, expect: 'not-due' },
  { name: 'OAuth app created by a provider clock 10 min ahead (created "in the future")', kind: 'credly-oauth', createdAgo: -10 * MINUTE, expect: 'not-due' },
  {
    name: 'Degreed grants 5183999 s, provider clock 1 d ahead',
    kind: 'degreed',
    provider: DAY,
    lifetimeSeconds: 5_183_999,
    expect: 'validated',
    summaryHas: 'expires in 5183999 s',
  },
  {
    name: 'Degreed grants 300 s, provider clock 10 min behind (already past by the worker)',
    kind: 'degreed',
    provider: -10 * MINUTE,
    lifetimeSeconds: 300,
    expect: 'validated',
    summaryHas: 'expires in 300 s',
  },
  { name: 'Learn.link grants 3600 s, provider clock 1 d behind', kind: 'learnlink', provider: -DAY, expect: 'validated', summaryHas: 'expires in 3600 s' },
];

const OFFSETS = ['Z', '+05:30', '-08:00', '+14:00', '-12:00', '+09:45', '-03:30', '+01:00'];

/** Tokens of random expiry (live at the provider) and random offsets, from the run's seed. */
function randomCases(seed: number, count: number): ClockCase[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, (_, i) => {
    // Whole seconds between 1 h and 400 d; a tenth of them within a minute of the threshold.
    const near = random() < 0.1;
    const expiresIn = near ? THRESHOLD + Math.round((random() - 0.5) * 120) * SECOND : HOUR + Math.floor(random() * 400 * 86_400) * SECOND;
    const offset = OFFSETS[Math.floor(random() * OFFSETS.length)]!;
    const worker = Math.round((random() - 0.5) * 20) * MINUTE * (near ? 0 : 1);
    const left = expiresIn - worker;
    return {
      name: `random ${i + 1}: expires in ${Math.round(expiresIn / SECOND)} s at ${offset}, worker skew ${worker / MINUTE} min`,
      kind: 'credly-token',
      expiresIn,
      offset,
      worker,
      expect: left <= THRESHOLD ? 'rotated' : 'not-due',
    };
  });
}

/** `at` written in another UTC offset, e.g. `2026-06-01T17:30:00.000+05:30`. */
export function inOffset(at: Date, offset: string): string {
  if (offset === 'Z') return at.toISOString();
  const match = /^([+-])(\d\d):(\d\d)$/.exec(offset);
  if (!match) throw new Error(`bad offset ${offset}`);
  const minutes = (match[1] === '-' ? -1 : 1) * (Number(match[2]) * 60 + Number(match[3]));
  return new Date(at.getTime() + minutes * MINUTE).toISOString().replace(/Z$/, offset);
}

/**
 * Issue 9, item 6: expiry decisions under clock skew. Credly tokens whose `expires_at` comes in
 * other UTC offsets, at and beside the threshold, already expired, far in the future; the worker's
 * clock skewed against the provider's both ways; OAuth application ages; Degreed and Learn.link
 * token lifetimes under a skewed provider clock. Each decision runs through the in-process worker
 * against the fakes and the Secrets Manager emulator. `full` adds many more random expiries.
 */
export const clock: SoakScenario = async (ctx) => {
  const cases = [...FIXED, ...randomCases(ctx.seed, ctx.scale === 'full' ? 80 : 8)];
  const run = randomUUID().slice(0, 8);
  const T0 = Math.floor(Date.now() / SECOND) * SECOND;
  let providerSkew = 0;
  let workerNow = T0;
  const providerClock = () => new Date(Date.now() + providerSkew);
  const [credly, degreedLong, degreedShort, learnlink] = await Promise.all([
    startCredlyFake({ now: providerClock }),
    startDegreedFake({ now: providerClock, tokenLifetimeSeconds: 5_183_999 }),
    startDegreedFake({ now: providerClock, tokenLifetimeSeconds: 300 }),
    startLearnlinkFake({ now: providerClock }),
  ]);
  const store = createSecretStore(createSecretsManagerClient());

  // Arrange every credential first: one inventory, one worker.
  const arranged: Array<{
    c: ClockCase;
    id: string;
    secretId: string;
    original: string;
    organizationId: string;
    expiresAt?: Date;
    tokenJsonOf?: () => object;
  }> = [];
  const lines: string[] = [];
  for (const [n, c] of cases.entries()) {
    const id = `k${n}-${c.kind}`;
    const secretId = `soak/clock/${run}/${n}`;
    if (c.kind === 'credly-token') {
      const organizationId = credly.state.addOrganization(`Clock ${run}-${n}`);
      const expiresAt = new Date(c.expiresAtMs ?? T0 + c.expiresIn!);
      const token = credly.state.addToken(organizationId, { description: 'by hand', createdAt: new Date(expiresAt.getTime() - 180 * DAY), expiresAt });
      const original = JSON.stringify({ token: token.token, tokenId: token.id });
      await store.putCurrent(secretId, original);
      lines.push(
        `  - id: ${id}\n    kind: credly-authorization-token\n    secretId: ${secretId}\n    organizationId: ${organizationId}\n    environment: sandbox\n    endpoints: { apiBase: "${credly.apiBase}" }\n`,
      );
      arranged.push({ c, id, secretId, original, organizationId, expiresAt, tokenJsonOf: () => tokenJson(token, credly.apiBase) });
    } else if (c.kind === 'credly-oauth') {
      const organizationId = credly.state.addOrganization(`Clock ${run}-${n}`);
      const manager = credly.state.addToken(organizationId, { description: 'management token (by hand)' });
      // The provider stamps created_at with its own clock: move it back to the application's birth.
      providerSkew = T0 - c.createdAgo! - Date.now();
      const app = credly.state.addApplication(organizationId, { name: 'LMS badge sync' });
      providerSkew = 0;
      await store.putCurrent(`${secretId}/manager`, JSON.stringify({ token: manager.token, tokenId: manager.id }));
      const original = JSON.stringify({ clientId: app.uid, clientSecret: app.secret, applicationId: app.id });
      await store.putCurrent(secretId, original);
      lines.push(
        `  - id: ${id}-manager\n    kind: credly-authorization-token\n    secretId: ${secretId}/manager\n    organizationId: ${organizationId}\n    environment: sandbox\n    endpoints: { apiBase: "${credly.apiBase}" }\n`,
      );
      lines.push(
        `  - id: ${id}\n    kind: credly-oauth-application\n    secretId: ${secretId}\n    organizationId: ${organizationId}\n    environment: sandbox\n    managedBy: ${id}-manager\n    applicationName: LMS badge sync\n    scopes: [issued_badges]\n    recreateEvery: 30d\n    endpoints: { apiBase: "${credly.apiBase}", tokenUrl: "${credly.tokenUrl}" }\n`,
      );
      arranged.push({ c, id, secretId, original, organizationId });
    } else if (c.kind === 'degreed') {
      const fake = c.lifetimeSeconds === 300 ? degreedShort : degreedLong;
      const client = fake.state.addClient();
      const original = JSON.stringify(client);
      await store.putCurrent(secretId, original);
      lines.push(
        `  - id: ${id}\n    kind: degreed-client-credentials\n    secretId: ${secretId}\n    environment: production\n    dataCenter: US\n    scopes: [users:read]\n    probe: true\n    logoutPath: /oauth/logout\n    endpoints: { tokenUrl: "${fake.tokenUrl}", apiBase: "${fake.apiBase}" }\n`,
      );
      arranged.push({ c, id, secretId, original, organizationId: '' });
    } else {
      const tenant = learnlink.state.addTenant();
      const original = JSON.stringify({ clientSecret: tenant.clientSecret });
      await store.putCurrent(secretId, original);
      lines.push(
        `  - id: ${id}\n    kind: learnlink-client-credentials\n    secretId: ${secretId}\n    tenantId: ${tenant.tenantId}\n    environment: production\n    audience: api\n    scopes: [api/read]\n    probe: true\n    endpoints: { tokenUrl: "${learnlink.tokenUrl.api}", apiBase: "${learnlink.apiBase}" }\n`,
      );
      arranged.push({ c, id, secretId, original, organizationId: tenant.tenantId });
    }
  }

  const worker = await startSoakWorker(`version: 1\ndefaults:\n  revokePreviousAfter: 0s\n  forceCooldown: 0s\ncredentials:\n${lines.join('')}`, {
    now: () => new Date(workerNow),
  });
  const wrong: string[] = [];
  try {
    for (const a of arranged) {
      const { c } = a;
      providerSkew = c.provider ?? 0;
      workerNow = T0 + (c.worker ?? 0);
      if (c.kind === 'credly-token' && c.offset && c.offset !== 'Z') {
        // Credly's listing, as the fake would give it, with expires_at written in another offset.
        const entry = { ...a.tokenJsonOf!(), expires_at: inOffset(a.expiresAt!, c.offset) };
        credly.faults.add({
          match: { server: 'api', method: 'GET', path: new RegExp(`^/v1/organizations/${a.organizationId}/authorization_tokens$`) },
          fault: {
            kind: 'respond',
            status: 200,
            headers: { 'content-type': 'application/json; charset=utf-8' },
            body: JSON.stringify({ data: [entry], metadata: { next_page_url: null } }),
          },
        });
      }
      const result = await worker.run(a.id);
      credly.faults.clear();
      const problem = await judge(a, result, workerNow, async () => (await store.readCurrent(a.secretId)).secretString);
      if (problem || process.env.SOAK_VERBOSE) ctx.log(`${SCENARIO}: ${c.name}: ${problem ? `WRONG — ${problem}` : `ok (${c.expect})`}`);
      if (problem) wrong.push(`${c.name}: ${problem}`);
    }
  } finally {
    providerSkew = 0;
    await worker.close();
    await Promise.all([credly.close(), degreedLong.close(), degreedShort.close(), learnlink.close()]);
  }

  const crashes = worker.crashes.length;
  const list = (items: string[]) => items.slice(0, 4).join('; ') + (items.length > 4 ? `; and ${items.length - 4} more` : '');
  const rows: SoakRow[] = [
    { scenario: SCENARIO, figure: 'expiry decisions checked', value: String(cases.length), target: '≥ 20', ok: cases.length >= 20 },
    countRow(SCENARIO, 'wrong decisions', wrong.length, 0, list(wrong)),
    countRow(SCENARIO, 'crashes', crashes, 0, list(worker.crashes)),
  ];
  return rows;
};

/** Why the outcome is not the decision the case expects, or undefined when it is. */
async function judge(
  a: { c: ClockCase; original: string; expiresAt?: Date },
  result: JobResult,
  workerNow: number,
  readCurrent: () => Promise<string>,
): Promise<string | undefined> {
  const { c } = a;
  const got = result.state === 'completed' ? String(result.outcome?.action) : `${result.state}: ${(result.reason ?? '').slice(0, 160)}`;
  switch (c.expect) {
    case 'rotated':
      return result.outcome?.action === 'rotated' ? undefined : `expected a rotation, got ${got}`;
    case 'not-due': {
      if (result.outcome?.action !== 'not-due') return `expected not due, got ${got}`;
      if (c.kind !== 'credly-token') return undefined;
      const days = Math.floor((a.expiresAt!.getTime() - workerNow) / DAY);
      if (result.outcome.daysToExpiry !== days) return `expected ${days} day(s) to expiry, got ${String(result.outcome.daysToExpiry)}`;
      if (!result.outcome.summary.includes(`expires in ${days} day(s) (rotate within 30d)`)) return `summary does not say "expires in ${days} day(s)"`;
      if (result.outcome.expiresAt !== a.expiresAt!.toISOString()) return `expiresAt ${String(result.outcome.expiresAt)}, not ${a.expiresAt!.toISOString()}`;
      return undefined;
    }
    case 'refused': {
      if (result.state !== 'failed') return `expected a refusal, got ${got}`;
      if (
        !/inspect failed: .*refused by Credly \(401\): it expired or was revoked\. Create a new token in Credly and put it into secret/.test(
          result.reason ?? '',
        )
      )
        return `the failure does not say the token is dead: ${got}`;
      if ((await readCurrent()) !== a.original) return 'AWSCURRENT changed';
      return undefined;
    }
    case 'validated':
      if (result.outcome?.action !== 'validated') return `expected validated, got ${got}`;
      if (c.summaryHas && !result.outcome.summary.includes(c.summaryHas)) return `summary "${result.outcome.summary}" lacks "${c.summaryHas}"`;
      return undefined;
  }
}
