import { randomUUID } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  DecryptionFailure,
  DescribeSecretCommand,
  GetSecretValueCommand,
  InternalServiceError,
  InvalidParameterException,
  InvalidRequestException,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  SecretsManagerServiceException,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/local-services.ts';
import { createSecretStore, createSecretsManagerClient } from '../../src/secrets/secret-store.ts';
import {
  InvalidRotationIdError,
  SecretAccessDeniedError,
  SecretConflictError,
  SecretNotFoundError,
  SecretStoreError,
  SecretStoreUnavailableError,
} from '../../src/secrets/errors.ts';

/*
 * Error mapping and secrecy of the store. The first part feeds SDK-shaped errors (the SDK's own
 * exception classes) through a fake `send`; the second drives the real SDK against loopback
 * sockets that refuse, hang or answer like a broken Secrets Manager.
 */

const SECRET = `sk_live_${randomUUID().replaceAll('-', '')}`;
const SECRET_ID = 'prod/credly-token';

interface SentCommand {
  input: Record<string, unknown>;
}
type Reply = (command: SentCommand) => unknown;

/** A stand-in for SecretsManagerClient: answers (or throws) per command and records what was sent. */
function fakeClient(reply: Reply): { client: Pick<SecretsManagerClient, 'send'>; sent: SentCommand[] } {
  const sent: SentCommand[] = [];
  // Async, so a reply that throws becomes a rejection, as the SDK's failures are.
  const send = async (command: SentCommand): Promise<unknown> => {
    sent.push(command);
    await Promise.resolve();
    return reply(command);
  };
  return { client: { send }, sent };
}

function throwing(error: unknown): Reply {
  return () => {
    throw error;
  };
}

const meta = (status: number) => ({ $metadata: { httpStatusCode: status } });
const unmodelled = (name: string, status: number, extra: Record<string, unknown> = {}) =>
  Object.assign(new SecretsManagerServiceException({ name, $fault: status >= 500 ? 'server' : 'client', message: `${name} happened`, ...meta(status) }), extra);

async function failure(promise: Promise<unknown>): Promise<SecretStoreError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SecretStoreError);
  return error as SecretStoreError;
}

/** Everything of an error that could end up in a log line or a job's failure reason. */
function everythingSaid(error: SecretStoreError): string {
  const cause = error.cause as { message?: unknown; stack?: unknown } | undefined;
  return [error.message, error.stack, String(cause?.message), String(cause?.stack), JSON.stringify(error), JSON.stringify(cause)].join('\n');
}

describe('SecretStore error mapping through a fake send', () => {
  it.each([
    [
      'ResourceNotFoundException',
      new ResourceNotFoundException({ message: "Secrets Manager can't find the specified secret.", ...meta(400) }),
      SecretNotFoundError,
      false,
    ],
    ['AccessDeniedException', unmodelled('AccessDeniedException', 400), SecretAccessDeniedError, false],
    ['AccessDenied (HTTP 403)', unmodelled('AccessDenied', 403), SecretAccessDeniedError, false],
    ['DecryptionFailure (KMS)', new DecryptionFailure({ message: 'KMS refused', ...meta(400) }), SecretAccessDeniedError, false],
    ['ResourceExistsException', new ResourceExistsException({ message: 'exists', ...meta(400) }), SecretConflictError, false],
    ['InvalidRequestException', new InvalidRequestException({ message: 'marked deleted', ...meta(400) }), SecretConflictError, false],
    ['InvalidParameterException', new InvalidParameterException({ message: 'bad parameter', ...meta(400) }), SecretConflictError, false],
    ['ThrottlingException', unmodelled('ThrottlingException', 400, { $retryable: { throttling: true } }), SecretStoreUnavailableError, true],
    ['an unnamed error marked $retryable', unmodelled('SomethingTransient', 400, { $retryable: {} }), SecretStoreUnavailableError, true],
    ['HTTP 429', unmodelled('TooManyRequests', 429), SecretStoreUnavailableError, true],
    ['InternalServiceError', new InternalServiceError({ message: 'oops', ...meta(500) }), SecretStoreUnavailableError, true],
    ['an unknown 503', unmodelled('ServiceUnavailable', 503), SecretStoreUnavailableError, true],
    ['ECONNREFUSED', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' }), SecretStoreUnavailableError, true],
    ['ECONNRESET', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), SecretStoreUnavailableError, true],
    ['a socket timeout', Object.assign(new Error('Connection timed out after 500 ms'), { name: 'TimeoutError' }), SecretStoreUnavailableError, true],
  ] as const)('maps %s to its error class and retryability', async (_label, sdkError, type, retryable) => {
    const { client } = fakeClient(throwing(sdkError));

    const error = await failure(createSecretStore(client).readCurrent(SECRET_ID));

    expect(error).toBeInstanceOf(type);
    expect(error.permanent).toBe(!retryable);
    expect(error.secretId).toBe(SECRET_ID);
    expect(error.operation).toBe('read-current');
    expect(error.message).toMatch(new RegExp(`^read-current "${SECRET_ID}": `));
    expect(error.message).toContain(sdkError.name);
    expect(error.cause).toBe(sdkError);
  });

  it('maps an unknown client error to a plain, permanent SecretStoreError', async () => {
    const { client } = fakeClient(throwing(unmodelled('SomethingNew', 400)));
    const error = await failure(createSecretStore(client).readCurrent(SECRET_ID));
    for (const specific of [SecretNotFoundError, SecretAccessDeniedError, SecretConflictError, SecretStoreUnavailableError]) {
      expect(error).not.toBeInstanceOf(specific);
    }
    expect(error.permanent).toBe(true);
    expect(error.message).toContain('HTTP 400');
  });

  it('names the failing operation for every method', async () => {
    const store = createSecretStore(fakeClient(throwing(new InternalServiceError({ message: 'oops', ...meta(500) }))).client);
    const calls: Array<[string, () => Promise<unknown>]> = [
      ['read-current', () => store.readCurrent(SECRET_ID)],
      ['read-pending', () => store.readPending(SECRET_ID)],
      ['read-version', () => store.readVersion(SECRET_ID, randomUUID())],
      ['put-pending', () => store.putPending(SECRET_ID, randomUUID(), SECRET)],
      ['promote', () => store.promote(SECRET_ID, randomUUID())],
      ['list-versions', () => store.listVersions(SECRET_ID)],
      ['put-current', () => store.putCurrent(SECRET_ID, SECRET)],
    ];
    for (const [operation, call] of calls) {
      const error = await failure(call());
      expect(error.operation).toBe(operation);
      expect(error.message).toMatch(new RegExp(`^${operation} "${SECRET_ID}": Secrets Manager unavailable`));
    }
  });

  it('redacts a written value that an error echoes and does not keep that error as cause', async () => {
    const echo = new InvalidParameterException({ message: `SecretString ${SECRET} is not acceptable`, ...meta(400) });
    const { client } = fakeClient((command) => {
      if (command instanceof GetSecretValueCommand) throw new ResourceNotFoundException({ message: 'no such version', ...meta(400) });
      throw echo;
    });

    const error = await failure(createSecretStore(client).putPending(SECRET_ID, randomUUID(), SECRET));

    expect(error).toBeInstanceOf(SecretConflictError);
    expect(error.message).toContain('[redacted]');
    expect(everythingSaid(error)).not.toContain(SECRET);
    expect(error.cause).not.toBe(echo);
  });

  it('keeps the text of an unparseable answer, which may quote the body, out of the error and its cause', async () => {
    // What the SDK throws when a GetSecretValue body is cut short: V8 quotes the body around the fault.
    const parseError = Object.assign(new SyntaxError(`Unexpected end of JSON input, "{"SecretString":"${SECRET}"... is not valid JSON`), meta(200));
    const { client } = fakeClient(throwing(parseError));

    const error = await failure(createSecretStore(client).readCurrent(SECRET_ID));

    expect(error).toBeInstanceOf(SecretStoreUnavailableError);
    expect(error.permanent).toBe(false);
    expect(error.message).toContain('SyntaxError');
    expect(everythingSaid(error)).not.toContain(SECRET);
  });

  it('refuses a rotation id that is not a UUID before calling AWS, without echoing it', async () => {
    const { client, sent } = fakeClient(() => ({}));
    const store = createSecretStore(client);
    // The last case is a swapped call: the secret passed where the rotation id belongs.
    for (const rotationId of ['not-a-uuid', '', `${randomUUID()}x`, SECRET]) {
      const error = await failure(store.putPending(SECRET_ID, rotationId, '{"token":"x"}'));
      expect(error).toBeInstanceOf(InvalidRotationIdError);
      expect(error.permanent).toBe(true);
      expect(error.message).toMatch(/rotation id must be a UUID/);
      expect(error.message).not.toContain(SECRET);
    }
    expect(sent).toEqual([]);
  });

  it('always reads by stage or by version id, never a bare GetSecretValue', async () => {
    const versionId = randomUUID();
    const { client, sent } = fakeClient((command) => {
      if (command instanceof GetSecretValueCommand) return { VersionId: versionId, SecretString: SECRET, ...meta(200) };
      if (command instanceof DescribeSecretCommand) return { VersionIdsToStages: { [versionId]: ['AWSPENDING'] }, ...meta(200) };
      return meta(200);
    });
    const store = createSecretStore(client);

    await store.readCurrent(SECRET_ID);
    await store.readPending(SECRET_ID);
    await store.readVersion(SECRET_ID, versionId);
    await store.putPending(SECRET_ID, versionId, SECRET);

    const reads = sent.filter((c) => c instanceof GetSecretValueCommand).map((c) => c.input);
    expect(reads).toEqual([
      { SecretId: SECRET_ID, VersionStage: 'AWSCURRENT' },
      { SecretId: SECRET_ID, VersionStage: 'AWSPENDING' },
      { SecretId: SECRET_ID, VersionId: versionId },
      { SecretId: SECRET_ID, VersionId: versionId },
    ]);
  });

  it('writes a pending version with the rotation id as ClientRequestToken and only the AWSPENDING label', async () => {
    const rotationId = randomUUID();
    const { client, sent } = fakeClient((command) => {
      if (command instanceof GetSecretValueCommand) throw new ResourceNotFoundException({ message: 'no such version', ...meta(400) });
      return { VersionId: rotationId, ...meta(200) };
    });

    expect(await createSecretStore(client).putPending(SECRET_ID, rotationId, SECRET)).toEqual({ versionId: rotationId });

    const puts = sent.filter((c) => c instanceof PutSecretValueCommand).map((c) => c.input);
    expect(puts).toEqual([{ SecretId: SECRET_ID, ClientRequestToken: rotationId, SecretString: SECRET, VersionStages: ['AWSPENDING'] }]);
  });

  it('refuses a secret that holds a binary value instead of a string', async () => {
    const { client } = fakeClient(() => ({ VersionId: randomUUID(), SecretBinary: new Uint8Array([1, 2, 3]), ...meta(200) }));
    const error = await failure(createSecretStore(client).readCurrent(SECRET_ID));
    expect(error.message).toMatch(/binary value/);
    expect(error.permanent).toBe(true);
  });
});

describe('SecretStore error mapping with the real SDK over loopback', () => {
  const cleanups: Array<() => void> = [];
  afterAll(() => {
    for (const cleanup of cleanups) cleanup();
  });

  /** Listens on a loopback port; the server and every connection it took are closed after the suite. */
  async function listen(server: Server | HttpServer): Promise<number> {
    const sockets = new Set<Socket>();
    server.on('connection', (socket: Socket) => sockets.add(socket));
    cleanups.push(() => {
      server.close();
      for (const socket of sockets) socket.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as AddressInfo).port;
  }

  /** A Secrets Manager that answers every call with this status, headers and body. */
  async function answering(status: number, headers: Record<string, string>, body: string): Promise<string> {
    const server = createHttpServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(status, headers).end(body));
    });
    return `http://127.0.0.1:${await listen(server)}`;
  }

  const storeAt = (endpoint: string, timeoutMs = 2_000) =>
    createSecretStore(createSecretsManagerClient({ endpoint, maxAttempts: 1, connectionTimeoutMs: timeoutMs, requestTimeoutMs: timeoutMs }));

  it('reports a closed port as retryable unavailability naming the secret and the operation', async () => {
    const port = await freePort();
    const error = await failure(storeAt(`http://127.0.0.1:${port}`, 500).readCurrent(SECRET_ID));
    expect(error).toBeInstanceOf(SecretStoreUnavailableError);
    expect(error.permanent).toBe(false);
    expect(error.message).toMatch(new RegExp(`^read-current "${SECRET_ID}": Secrets Manager unreachable`));
  });

  it('reports an endpoint that accepts but never answers as retryable unavailability after the request timeout', async () => {
    const port = await listen(createServer(() => undefined));
    const started = Date.now();

    const error = await failure(storeAt(`http://127.0.0.1:${port}`, 300).readCurrent(SECRET_ID));

    expect(error).toBeInstanceOf(SecretStoreUnavailableError);
    expect(error.permanent).toBe(false);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('maps AccessDeniedException and ThrottlingException answers as the SDK parses them', async () => {
    const json = { 'content-type': 'application/x-amz-json-1.1' };
    const denied = await answering(400, json, JSON.stringify({ __type: 'AccessDeniedException', message: 'not authorized' }));
    const throttled = await answering(400, json, JSON.stringify({ __type: 'ThrottlingException', message: 'Rate exceeded' }));

    const deniedError = await failure(storeAt(denied).readCurrent(SECRET_ID));
    const throttledError = await failure(storeAt(throttled).putPending(SECRET_ID, randomUUID(), SECRET));

    expect(deniedError).toBeInstanceOf(SecretAccessDeniedError);
    expect(deniedError.message).toContain('AccessDeniedException');
    expect(throttledError).toBeInstanceOf(SecretStoreUnavailableError);
    expect(throttledError.permanent).toBe(false);
    expect(everythingSaid(throttledError)).not.toContain(SECRET);
  });

  it('keeps the body of an answer the SDK cannot parse out of the error, even when it carries the secret', async () => {
    const html = await answering(502, { 'content-type': 'text/html' }, `<!doctype html><p>${SECRET}</p>`);
    const truncated = await answering(200, { 'content-type': 'application/x-amz-json-1.1' }, `{"Name":"x","SecretString":"${SECRET}`);

    for (const endpoint of [html, truncated]) {
      const error = await failure(storeAt(endpoint).readCurrent(SECRET_ID));
      expect(error).toBeInstanceOf(SecretStoreUnavailableError);
      expect(error.permanent).toBe(false);
      expect(everythingSaid(error)).not.toContain(SECRET);
    }
  });
});
