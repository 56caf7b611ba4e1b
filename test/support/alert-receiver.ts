import { createServer, type Server } from 'node:http';

export interface ReceivedAlert {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  json: Record<string, unknown>;
}

/**
 * One local HTTP server playing Slack (`/slack`), PagerDuty Events v2 (`/pagerduty`) and a generic
 * webhook (`/webhook`): it records every delivery and answers 200 (202 for PagerDuty, as it does).
 */
export interface AlertReceiver {
  url: string;
  received: ReceivedAlert[];
  on: (path: string) => ReceivedAlert[];
  close: () => Promise<void>;
}

export async function startAlertReceiver(): Promise<AlertReceiver> {
  const received: ReceivedAlert[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      let json: Record<string, unknown> = {};
      try {
        json = JSON.parse(body) as Record<string, unknown>;
      } catch {
        // recorded as is
      }
      received.push({ path: req.url ?? '', headers: req.headers, body, json });
      const pagerduty = req.url === '/pagerduty';
      res.writeHead(pagerduty ? 202 : 200, { 'content-type': 'application/json' });
      res.end(pagerduty ? '{"status":"success","message":"Event processed"}' : 'ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    on: (path) => received.filter((r) => r.path === path),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * The inventory's `alerts:` section sending to a receiver at `url`: each of `sinks` (slack,
 * pagerduty, webhook) reads its secret from the env var the test sets (TEST_SLACK_URL, TEST_PD_KEY,
 * TEST_HOOK_SECRET); `deadUrl` adds a webhook nobody answers.
 */
export function alertsYaml(url: string, sinks: Array<'slack' | 'pagerduty' | 'webhook'>, deadUrl?: string): string {
  const entries = {
    slack: `  - id: slack\n    kind: slack\n    webhookUrl: { env: TEST_SLACK_URL }\n`,
    pagerduty: `  - id: pager\n    kind: pagerduty\n    routingKey: { env: TEST_PD_KEY }\n    url: ${url}/pagerduty\n`,
    webhook: `  - id: hook\n    kind: webhook\n    url: ${url}/webhook\n    signingSecret: { env: TEST_HOOK_SECRET }\n`,
  };
  const dead = deadUrl ? `  - id: dead\n    kind: webhook\n    url: ${deadUrl}\n    signingSecret: { env: TEST_HOOK_SECRET }\n` : '';
  return `alerts:\n${sinks.map((s) => entries[s]).join('')}${dead}`;
}
