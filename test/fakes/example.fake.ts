import { bearer, json, realClock, secretValue, startFakeServer, type Clock, type RecordedRequest } from './http.ts';
import { FaultInjector } from './faults.ts';

/**
 * The provider of the test-only kind `example-api-key` (test/fixtures/example-kind/): one host on
 * 127.0.0.1 whose `GET /v1/whoami` answers the bearer key's id and scopes, 401 for a key it never
 * issued or has revoked. Faults (a 5xx, latency) come from the shared injector. It is the smallest
 * fake a new kind needs, and the model docs/adding-a-kind.md points to.
 */
export async function startExampleFake(options: { now?: Clock; latencyMs?: number } = {}) {
  const faults = new FaultInjector<'api'>({ latencyMs: options.latencyMs ?? 0 });
  const requests: Array<RecordedRequest<'api'>> = [];
  const keys = new Map<string, { id: string; scopes: string[]; revoked: boolean }>();
  let issued = 0;

  const server = await startFakeServer({
    name: 'api',
    faults,
    log: requests,
    now: options.now ?? realClock,
    routes: [
      {
        method: 'GET',
        pattern: /^\/v1\/whoami$/,
        handler: (req) => {
          const key = keys.get(bearer(req) ?? '');
          if (!key || key.revoked) return json(401, { error: 'invalid_key', message: 'the API key is not valid' });
          return json(200, { id: key.id, scopes: key.scopes });
        },
      },
    ],
  });

  return {
    apiBase: server.origin,
    faults,
    requests,
    /** Issues a key with `scopes`; returns its value (for the secret) and its id. */
    issueKey(scopes: string[]): { apiKey: string; id: string } {
      issued += 1;
      const apiKey = secretValue('exk_');
      const id = `key-${issued}`;
      keys.set(apiKey, { id, scopes, revoked: false });
      return { apiKey, id };
    },
    /** The key stops working, as when a person revokes it at the provider. */
    revokeKey(apiKey: string): void {
      const key = keys.get(apiKey);
      if (!key) throw new Error('revokeKey: no such key');
      key.revoked = true;
    },
    close: () => server.close(),
  };
}

export type ExampleFake = Awaited<ReturnType<typeof startExampleFake>>;
