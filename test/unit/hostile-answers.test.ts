import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { plainText, slackText } from '../../src/alerts/sinks.ts';
import { REDACTED, scrubSecrets, secretForms } from '../../src/errors/scrub.ts';
import { ProviderRequestError, ProviderUnavailableError } from '../../src/errors/provider-errors.ts';
import { createProviderHttp } from '../../src/provider-http/http.ts';
import { mapSecretsManagerError } from '../../src/secrets/errors.ts';

const SECRET = 'sec ret+/=&%?é-0123456789';

describe('scrubbing every form a value can come back in', () => {
  const forms = {
    raw: SECRET,
    percent: encodeURIComponent(SECRET),
    lower: encodeURIComponent(SECRET).replace(/%[0-9A-F]{2}/g, (h) => h.toLowerCase()),
    form: new URLSearchParams({ v: SECRET }).toString().slice(2),
    base64: Buffer.from(SECRET).toString('base64'),
    base64url: Buffer.from(SECRET).toString('base64url'),
    basic: Buffer.from(`${SECRET}:`).toString('base64'),
    json: JSON.stringify(SECRET).slice(1, -1),
  };

  it.each(Object.entries(forms))('replaces the %s form, and the forms all differ from the raw value', (name, form) => {
    if (name !== 'raw' && name !== 'json') expect(form).not.toBe(SECRET);
    expect(secretForms(SECRET)).toContain(form);
    expect(scrubSecrets(`before ${form} after`, [SECRET])).toBe(`before ${REDACTED} after`);
  });

  it('leaves short values alone (they would match ordinary words) and text without a value unchanged', () => {
    expect(scrubSecrets('a b c abc', ['abc'])).toBe('a b c abc');
    expect(scrubSecrets('nothing here', [SECRET])).toBe('nothing here');
  });

  it('scrubs an AWS message before shortening it, so no beginning of a value is left at the cut', () => {
    const long = 'x'.repeat(150);
    const error = Object.assign(new Error(`${long} ${encodeURIComponent(SECRET)} and more`), {
      name: 'ValidationException',
      $fault: 'client',
      $metadata: { httpStatusCode: 400 },
    });
    const mapped = mapSecretsManagerError(error, 'prod/x', 'put-pending', [SECRET]);
    expect(mapped.message).not.toContain(encodeURIComponent(SECRET).slice(0, 8));
    expect(mapped.message).toContain(REDACTED);
  });
});

describe('provider answers that are too large or echo the request', () => {
  let server: Server;
  let base = '';
  /** Bytes the server managed to write of its endless answer before the client went away. */
  let written = 0;

  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/huge-declared') {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(2 * 1024 * 1024) });
        res.end('{}');
        return;
      }
      if (req.url === '/endless' || req.url === '/endless-error') {
        written = 0;
        res.writeHead(req.url === '/endless' ? 200 : 400, { 'content-type': 'application/json' });
        const chunk = Buffer.alloc(64 * 1024, 0x20);
        const pump = () => {
          while (written < 512 * 1024 * 1024 && !res.destroyed) {
            written += chunk.length;
            if (!res.write(chunk)) return void res.once('drain', pump);
          }
          res.end();
        };
        res.on('close', () => undefined);
        pump();
        return;
      }
      if (req.url === '/echo') {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const body = Buffer.concat(chunks).toString();
          res.writeHead(400, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: 'invalid_request', error_description: `you sent ${body} with ${String(req.headers.authorization)}` }));
        });
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const http = createProviderHttp({ provider: 'degreed', maxAttempts: 1, requestTimeoutMs: 20_000 });
  const parse = z.object({}).passthrough();

  it('refuses a body declared over 1 MiB at once, as a classified failure', async () => {
    const error = await http.request({ operation: 'token', method: 'GET', url: `${base}/huge-declared`, parse }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderUnavailableError);
    expect((error as Error).message).toBe('degreed token: 200 with an answer larger than 1 MiB');
  });

  it('stops reading a streamed body at 1 MiB instead of buffering it whole', async () => {
    const before = process.memoryUsage().arrayBuffers;
    const error = await http.request({ operation: 'token', method: 'GET', url: `${base}/endless`, parse }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderUnavailableError);
    expect((error as Error).message).toContain('an answer larger than 1 MiB');
    // The server could push 512 MiB; the client stopped near the cap (socket buffers aside).
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(written).toBeLessThan(32 * 1024 * 1024);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 * 1024 * 1024);
  });

  it('classifies an oversized error body by its status alone', async () => {
    const error = await http.request({ operation: 'token', method: 'GET', url: `${base}/endless-error`, parse }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderRequestError);
    expect((error as Error).message).toBe('degreed token: 400 Bad Request');
    expect(written).toBeLessThan(32 * 1024 * 1024);
  });

  it('scrubs a form-encoded secret and the Basic header the provider echoes, in every form', async () => {
    const error = await http
      .request({
        operation: 'token',
        method: 'POST',
        url: `${base}/echo`,
        form: { client_secret: SECRET },
        headers: { authorization: `Basic ${Buffer.from(`id:${SECRET}`).toString('base64')}` },
        secrets: [SECRET],
        parse,
      })
      .catch((e: unknown) => e);
    const message = (error as Error).message;
    expect(message).toContain('you sent client_secret=[redacted] with [redacted]');
    for (const form of secretForms(SECRET)) expect(message).not.toContain(form);
  });
});

describe('alert text from providers', () => {
  it('is escaped for Slack: no mention, no link, no markup from a provider', () => {
    const hostile = 'refused <!channel> <!here|here> <@U123> <https://evil.example/login|click here> & see https://evil.example @here';
    const text = slackText(hostile);
    expect(text).toBe(
      'refused &lt;!channel&gt; &lt;!here|here&gt; &lt;@U123&gt; &lt;https[:]//evil[.]example/login|click here&gt; &amp; see https[:]//evil[.]example @\u200bhere',
    );
    expect(text).not.toMatch(/[<>]/);
    expect(text).not.toContain('://');
  });

  it('defangs bare domains and e-mail addresses for Slack, which would link them', () => {
    const cases: Array<[string, string]> = [
      ['log in again at evil.example.com now', 'log in again at evil[.]example[.]com now'],
      ['write to it-help@evil.example.', 'write to it-help[@]evil[.]example.'],
      ['mail first.last+x@sub.evil.co.uk', 'mail first[.]last+x[@]sub[.]evil[.]co[.]uk'],
      ['see www.evil-site.org/reset?x=1', 'see www[.]evil-site[.]org/reset?x=1'],
      ['Unicode: münchen.de and xn--mnchen-3ya.de', 'Unicode: münchen[.]de and xn--mnchen-3ya[.]de'],
      ['mixed case EVIL.Example.COM', 'mixed case EVIL[.]Example[.]COM'],
    ];
    for (const [given, expected] of cases) expect(slackText(given), given).toBe(expected);
    for (const [given] of cases) {
      const text = slackText(given);
      // No dotted name with a letter top-level label, and no address, is left for Slack to link.
      expect(text, given).not.toMatch(/[\p{L}\p{N}-]\.\p{L}{2,}(?![\p{L}\p{N}])/u);
      expect(text, given).not.toMatch(/[^\s[]@[^\s\]]/u);
    }
    // What is not a domain stays as written: versions, addresses, amounts, the end of a sentence.
    for (const plain of ['version 1.2.3', 'at 10.0.0.1:6379', 'took 1.5 s.', 'failed. Retry', 'ProviderAuthError (401)']) expect(slackText(plain)).toBe(plain);
  });

  it('is plain for webhooks and PagerDuty: no control or direction-override characters, length capped', () => {
    expect(plainText('line one\nline\u0000two\u202Eevil\u200B')).toBe('line one line two evil');
    expect(plainText('x'.repeat(5_000))).toHaveLength(1_001);
  });
});
