import { describe, expect, it } from 'vitest';
import { formatProbe } from '../../src/cli/probe.command.ts';
import { findingsOf } from '../../src/probe/findings.ts';
import { MAX_BODY_BYTES, readCapped } from '../../src/provider-http/body.ts';
import { createWire } from '../../src/probe/wire.ts';

const SECRET = 'credlytoken_0123456789abcdef0123456789abcdef';

/** A fetch that answers `body` as JSON with `status`. */
const answering =
  (status: number, body: unknown): typeof fetch =>
  async () =>
    new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

describe('probe wire records', () => {
  it('keep statuses, field names, error codes and page metadata, never a value; the caller still reads the whole body', async () => {
    const page = {
      data: [{ id: 'a', token: SECRET }],
      metadata: { current_page: 1, total_pages: 3, total_count: 3, per: 1, next_page_url: `https://www.example.test/api/v1/x?page=2&token=${SECRET}` },
    };
    const wire = createWire(readCapped, answering(200, page));
    const response = await wire.fetch('https://api.example.test/v1/organizations/o/authorization_tokens?per=1');
    expect(((await response.json()) as typeof page).data[0]!.token).toBe(SECRET);
    expect(wire.records).toEqual([
      {
        method: 'GET',
        target: 'https://api.example.test/v1/organizations/o/authorization_tokens',
        status: 200,
        keys: ['data', 'metadata'],
        errorCode: undefined,
        page: { link: 'other', linkOrigin: 'https://www.example.test', currentPage: 1, totalPages: 3, totalCount: 3, per: 1, count: 1 },
      },
    ]);
    expect(JSON.stringify(wire.records)).not.toContain(SECRET);
  });

  it('a relative next link is on the same origin; an error code is kept only when it looks like one', async () => {
    const relative = createWire(readCapped, answering(200, { data: [], metadata: { next_page_url: '/v1/x?page=2' } }));
    await relative.fetch('https://api.example.test/v1/x', { method: 'GET' });
    expect(relative.records[0]!.page).toMatchObject({ link: 'same' });
    const refused = createWire(readCapped, answering(401, { error: `not a code ${SECRET}`, message: SECRET }));
    await refused.fetch('https://www.example.test/oauth/token', { method: 'POST' });
    expect(refused.records[0]).toMatchObject({ method: 'POST', status: 401, keys: ['error', 'message'], errorCode: undefined });
    expect(JSON.stringify(refused.records)).not.toContain(SECRET);
  });

  it('read an answer through the 1 MiB cap: an endless JSON body is left after the cap, not buffered whole', async () => {
    let pulled = 0;
    const chunk = new TextEncoder().encode(`${'"x",'.repeat(16 * 1024)}`);
    // `{"data":["x","x",…` and never an end: without a cap the wire would read it until memory ran out.
    const endless: typeof fetch = async () =>
      new Response(
        new ReadableStream<Uint8Array>({
          start: (controller) => controller.enqueue(new TextEncoder().encode('{"data":[')),
          pull: (controller) => {
            pulled += chunk.byteLength;
            controller.enqueue(chunk);
          },
        }),
        { status: 200, headers: { 'content-type': 'application/json' } },
      );
    const wire = createWire(readCapped, endless);
    const response = await wire.fetch('https://api.example.test/v1/organizations/o/authorization_tokens');
    // The record says what was seen (a status) and nothing of a body it did not read whole.
    expect(wire.records).toEqual([
      { method: 'GET', target: 'https://api.example.test/v1/organizations/o/authorization_tokens', status: 200, keys: [], errorCode: undefined },
    ]);
    // The wire stopped within a few chunks of the cap (the stream is pulled a little ahead of the reader).
    expect(pulled).toBeGreaterThan(MAX_BODY_BYTES);
    expect(pulled).toBeLessThan(MAX_BODY_BYTES + 8 * chunk.byteLength);
    // The client reading the same answer meets the same cap.
    await expect(readCapped(response)).rejects.toThrow('an answer larger than 1 MiB');
  });
});

describe('probe text output', () => {
  it('names what does not hold, the settings to use and what was left at the provider', () => {
    const f = findingsOf('credly-main', 'credly-authorization-token');
    f.holds('listing', 'the stored token lists', true, '2 token(s) listed');
    f.fails('delete-token', 'DELETE revokes a token', true, 'DELETE answered 404; the token is still listed');
    f.leftovers.push({ what: 'authorization-token', id: 't-1', description: 'credential-rotator x credential=credly-main', advice: 'revoke t-1 by hand' });
    const text = formatProbe(f.done({ deleteSupported: false }), true);
    expect(text).toMatch(/^credly-main \(credly-authorization-token\)\n/);
    expect(text).toMatch(/DOES NOT HOLD\s+delete-token\s+DELETE answered 404/);
    expect(text).toContain('  delete-token: DELETE revokes a token');
    expect(text).toContain('  inventory settings to use:\n    deleteSupported: false');
    expect(text).toContain('LEFT AT THE PROVIDER: authorization-token t-1');
    expect(text).toContain('=> FAILED: the inventory relies on 1 assumption(s) that do not hold: delete-token; 1 thing(s) left at the provider: t-1');
  });

  it('a leftover alone fails the credential; unchecked assumptions alone make it incomplete, never FAILED', () => {
    const left = findingsOf('credly-main', 'credly-authorization-token');
    left.holds('delete-token', 'DELETE revokes a token', false, 'not relied on');
    left.leftovers.push({ what: 'authorization-token', id: 't-2', description: 'credential-rotator x credential=credly-main', advice: 'revoke t-2 by hand' });
    expect(left.done({})).toMatchObject({ ok: false, outcome: 'failed' });

    const readOnly = findingsOf('credly-main', 'credly-authorization-token');
    readOnly.holds('listing', 'the stored token lists', true, '2 token(s) listed');
    readOnly.unchecked('create-token', 'a token creates a token', true, 'not tried: needs --allow-writes (only a write shows it)');
    readOnly.fails('refusal', 'an unknown token is refused with 401', false, 'answered 403');
    const probe = readOnly.done({});
    expect(probe).toMatchObject({ ok: false, outcome: 'incomplete' });
    const text = formatProbe(probe, false);
    expect(text).not.toContain('FAILED');
    expect(text).toContain('=> incomplete: nothing failed, but the inventory relies on 1 assumption(s) not checked: create-token');
  });
});

describe('probe wire: each call reads its own answer', () => {
  it('a call that got no answer has a record without a status, not the answer to the request before it', async () => {
    let n = 0;
    const flaky: typeof fetch = async () => {
      n += 1;
      if (n === 1) return new Response(JSON.stringify({ error: 'invalid_client' }), { status: 401, headers: { 'content-type': 'application/json' } });
      throw new TypeError('fetch failed', { cause: { code: 'ECONNRESET' } });
    };
    const wire = createWire(readCapped, flaky);
    const first = await wire.call(() => wire.fetch('https://www.example.test/oauth/token', { method: 'POST' }));
    expect(first).toMatchObject({ ok: true, record: { status: 401, errorCode: 'invalid_client' } });
    const second = await wire.call(() => wire.fetch('https://www.example.test/oauth/token', { method: 'POST' }));
    expect(second.ok).toBe(false);
    expect(second.record).toMatchObject({ method: 'POST', status: null, errorCode: undefined });
    const none = await wire.call(async () => 'no request at all');
    expect(none).toEqual({ ok: true, value: 'no request at all', record: undefined });
  });
});
