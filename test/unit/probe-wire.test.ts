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
    expect(text).toContain('=> the inventory relies on 1 assumption(s) that do not hold or were not checked: delete-token');
  });
});
