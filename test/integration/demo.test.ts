import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const DEMO = fileURLToPath(new URL('../../scripts/demo.ts', import.meta.url));

describe('npm run demo', () => {
  it('runs the worker on local stand-ins end to end, rotates the near-expiry Credly token, recreates the OAuth application whose secret was lost, reports each credential and ends by itself', async () => {
    const child = spawn(process.execPath, [DEMO], { env: process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));

    expect(output, output).toContain('configuration valid: 5 credential(s)');
    expect(output).toMatch(/before: credly-main holds Credly token \S+, which expires in 19 days/);
    expect(output).toMatch(/credly-main\s+success\s+rotated: new credential \S+ in AWSCURRENT; previous \S+: revoked/);
    expect(output).toMatch(/after: {2}credly-main holds Credly token \S+, which expires in 179 days/);
    expect(output).toContain('the new token works at Credly: yes; the old token is revoked: yes');
    expect(output).toMatch(/credly-badge-sync\s+success\s+rotated: new credential \d+ in AWSCURRENT; previous \d+: revoked/);
    expect(output).toMatch(/credly-badge-sync holds application \d+: its client secret works: yes; application \d+ deleted: yes/);
    expect(output).toMatch(/degreed-broken\s+FAILED\s+SecretFormatError: .*field "clientSecret" is missing/);
    expect(output).toMatch(/degreed-us\s+success\s+token granted \(scopes users:read; expires in 300 s\); probe ok; logged out/);
    expect(output).toMatch(/thrive-api\s+success\s+token granted \(scopes api\/read; expires in 3600 s\)/);
    expect(output).toContain('4 of 5 credentials checked successfully');
    expect(output).toContain("secret values found in the worker's log: 0; in Redis: 0");
    expect(output).toContain('worker exited with code 0');
    // The expiry radar: at the worker's start, and `rotator radar` naming the hand-made token nobody manages.
    expect(output).toContain('its expiry radar listed 2 Credly tokens: 1 that no credential manages expire within 30d');
    expect(output).toMatch(/HR export \(made by hand\)\s+\S+\s+\S+ EXPIRES SOON\s+rwd\s+NOBODY/);
    expect(output).toContain('exit code 1: a token nobody manages expires within the window');
    // Events: the consumer told of each rotation and revoke, signatures verified.
    for (const line of [
      'the LMS was told: credential.rotated for credly-main (signature verified)',
      'the LMS was told: credential.revoked for credly-main (signature verified)',
      'the LMS was told: credential.rotated for credly-badge-sync (signature verified)',
      'the LMS was told: credential.revoked for credly-badge-sync (signature verified)',
    ])
      expect(output).toContain(line);
    // Every connection is closed before the services stop: nothing reconnects after the end.
    expect(output).not.toContain('Unhandled error event');
    expect(code).toBe(0);
  }, 90_000);
});
