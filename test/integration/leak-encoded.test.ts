import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { alertsYaml } from '../support/alert-receiver.ts';
import { credlyEndpoints, degreedEndpoints, useFakeHosts } from '../support/fake-hosts.ts';
import { entryYaml, useScenarios, type WorkerProcess } from '../support/scenario.ts';

const hosts = useFakeHosts({ credly: {}, degreed: {}, alerts: true }, { clearAfterEach: false });
const scenarios = useScenarios('leak');

/** Every form a provider could echo a value in. The values hold characters each encoding changes. */
function encodedForms(value: string): Record<string, string> {
  const percent = encodeURIComponent(value);
  const b64 = (text: string) => Buffer.from(text).toString('base64');
  return {
    raw: value,
    percent,
    'percent (lower-case hex)': percent.replace(/%[0-9A-F]{2}/g, (h) => h.toLowerCase()),
    'form-encoded': new URLSearchParams({ v: value }).toString().slice(2),
    base64: b64(value),
    'base64 unpadded': b64(value).replace(/=+$/, ''),
    base64url: Buffer.from(value).toString('base64url'),
    'base64 of "value:" (Basic auth)': b64(`${value}:`),
  };
}

/** A provider error body quoting the value in every form, as a careless or hostile provider might. */
function echoBody(value: string): string {
  const forms = Object.entries(encodedForms(value)).map(([name, form]) => `${name}=${form}`);
  // It also tries to page a whole Slack channel and plant a link.
  return JSON.stringify({ error: 'invalid_client', error_description: `<!channel> <https://evil.example|retry> rejected ${forms.join(' ')} (try again)` });
}

describe('secrets echoed back in encoded forms', () => {
  it('reach neither alerts, status, logs nor Redis in any form: raw, percent-, form- or base64-encoded', async () => {
    const { credly, degreed, alerts: receiver } = hosts;
    const run = randomUUID().slice(0, 8);
    // Spaces, +, /, =, &, %, ?, # and non-ASCII: the percent, form and base64 forms all differ from the raw value.
    const clientSecret = `dg sec+ret/${run}=&%?#é`;
    const token = `cr tok+en/${run}==&é`;
    const org = credly.state.addOrganization(`Org ${run}`);
    const client = degreed.state.addClient({ scopes: ['users:read'] });
    degreed.faults.add({
      match: { server: 'token' },
      times: Infinity,
      fault: { kind: 'respond', status: 401, headers: { 'content-type': 'application/json' }, body: echoBody(clientSecret) },
    });
    // A 422 carries the provider's reason into the error (a 401 is replaced by the rotator's own explanation).
    credly.faults.add({
      match: { path: org },
      times: Infinity,
      fault: { kind: 'respond', status: 422, headers: { 'content-type': 'application/json' }, body: echoBody(token) },
    });
    const secretIds = { degreed: `test/leak/${run}/degreed`, credly: `test/leak/${run}/credly` };
    const degreedEntry = {
      id: `degreed-${run}`,
      kind: 'degreed-client-credentials',
      secretId: secretIds.degreed,
      environment: 'production',
      dataCenter: 'US',
      scopes: '[users:read]',
    };
    const credlyEntry = { id: `credly-${run}`, kind: 'credly-authorization-token', secretId: secretIds.credly, organizationId: org, environment: 'production' };
    const password = `dash-${randomUUID()}`;
    const t = await scenarios.build({
      credentials: [
        { ...degreedEntry, yaml: entryYaml(degreedEntry, degreedEndpoints(degreed)), seed: JSON.stringify({ clientId: client.clientId, clientSecret }) },
        { ...credlyEntry, yaml: entryYaml(credlyEntry, credlyEndpoints(credly)), seed: JSON.stringify({ token }) },
      ],
      more: alertsYaml(receiver.url, ['slack', 'pagerduty', 'webhook']),
      env: {
        ROTATOR_JOB_ATTEMPTS: '1',
        LOG_LEVEL: 'debug',
        ROTATOR_DASHBOARD: 'on',
        ROTATOR_DASHBOARD_USER: 'ops',
        ROTATOR_DASHBOARD_PASSWORD: password,
        TEST_SLACK_URL: `${receiver.url}/slack`,
        TEST_PD_KEY: `pd-${run}`,
        TEST_HOOK_SECRET: `hook-${run}`,
      },
      workers: 1,
    });
    const [worker] = t.workers as [WorkerProcess];
    const port = await worker.port();
    for (const id of [`degreed-${run}`, `credly-${run}`]) {
      const trigger = t.spawn(['trigger', id, '--wait']);
      expect((await trigger.exited).code, trigger.output()).toBe(1);
      expect(trigger.output()).toContain('[redacted]');
    }
    const mine = () => receiver.received.filter((r) => r.body.includes(run));
    await expect.poll(() => mine().length, { timeout: 10_000 }).toBe(6);

    // What each place holds: the alerts as delivered, the status with its messages (CLI and the
    // ops port with the dashboard's credentials), every log line of both processes, all of Redis.
    const status = t.spawn(['status', '--json']);
    expect((await status.exited).code).toBe(0);
    const auth = { authorization: `Basic ${Buffer.from(`ops:${password}`).toString('base64')}` };
    const statusJson = await (await fetch(`http://127.0.0.1:${port}/status.json`, { headers: auth })).text();
    expect(statusJson).toContain('invalid-credential');
    expect(statusJson).toContain('[redacted]');
    const redisText = await t.redisText();
    const places: Record<string, string> = {
      alerts: mine()
        .map((r) => r.body)
        .join('\n'),
      'rotator status': status.output(),
      '/status.json': statusJson,
      logs: worker.output(),
      redis: redisText,
    };
    expect(places.alerts).toContain('rejected');
    // Slack gets the provider's markup escaped: no mention, no link.
    const slack = mine()
      .filter((r) => r.path === '/slack')
      .map((r) => String(r.json.text));
    expect(slack).toHaveLength(2);
    for (const text of slack) {
      expect(text).toContain('&lt;!channel&gt; &lt;https[:]//evil[.]example|retry&gt;');
      expect(text).not.toMatch(/<!channel>|<https?:/);
    }
    const found: string[] = [];
    for (const [secretName, value] of Object.entries({ clientSecret, token })) {
      for (const [formName, form] of Object.entries(encodedForms(value))) {
        for (const [place, text] of Object.entries(places)) {
          // JSON bodies escape "/" nowhere and keep é: a form is searched as is and JSON-escaped.
          if (text.includes(form) || text.includes(JSON.stringify(form).slice(1, -1))) found.push(`${secretName} ${formName} in ${place}`);
        }
      }
    }
    expect(found).toEqual([]);
  }, 60_000);
});
