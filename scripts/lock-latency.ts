/**
 * How late a credential lock's renewal lands on a loaded machine: the figure behind the lower
 * bound of ROTATOR_LOCK_DURATION (docs/decisions.md, "Fencing").
 *
 * Holds `LOCKS` locks on a real Redis, each renewed on its own timer as the worker renews them,
 * while the host's cores are kept busy by as many spinning processes and this process does what a
 * busy worker does between renewals (parsing and serialising provider listings). Every renewal's
 * lateness is measured: from the moment it was due to the moment Redis's answer was read, so timer
 * lag, event-loop stalls and the round trip all count. Prints percentiles and the maximum.
 *
 *   node scripts/lock-latency.ts [seconds]     (default 60; REDIS_URL to use a running Redis)
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { startRedis } from './local-services.ts';

const seconds = Number(process.argv[2] ?? 60);
const LOCKS = 200;
const RENEW_EVERY_MS = 1_000;
const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;

const dir = mkdtempSync(join(tmpdir(), 'lock-latency-'));
const server = process.env.REDIS_URL ? undefined : await startRedis(dir);
const redis = new Redis(process.env.REDIS_URL ?? `redis://127.0.0.1:${server?.port}`);
// One spinning process per core: the host is fully loaded before this process asks for any time.
const hogs = cpus().map(() => spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' }));

const late: number[] = [];
let failures = 0;
const until = Date.now() + seconds * 1000;
const timers = Array.from({ length: LOCKS }, (_, i) => {
  const key = `{latency}:lock:c${i}`;
  let due = Date.now() + RENEW_EVERY_MS;
  void redis.set(key, 'holder', 'PX', 30_000);
  return setInterval(() => {
    const expected = due;
    due += RENEW_EVERY_MS;
    redis.eval(RENEW, 1, key, 'holder', '30000').then(
      () => late.push(Date.now() - expected),
      () => (failures += 1),
    );
  }, RENEW_EVERY_MS);
});

// A worker's own work between renewals: provider listings (100 tokens a page) read and written.
const page = JSON.stringify({ data: Array.from({ length: 100 }, (_, i) => ({ id: `t${i}`, token: 'x'.repeat(40), description: 'd'.repeat(80) })) });
while (Date.now() < until) {
  for (let i = 0; i < 20; i += 1) JSON.stringify(JSON.parse(page));
  await sleep(1);
}

for (const t of timers) clearInterval(t);
for (const hog of hogs) hog.kill('SIGKILL');
redis.disconnect();
await server?.stop();
rmSync(dir, { recursive: true, force: true });

late.sort((a, b) => a - b);
const at = (q: number) => late[Math.min(late.length - 1, Math.floor(q * late.length))] ?? NaN;
console.log(`renewals ${late.length}, failed ${failures}, over ${seconds} s with ${cpus().length} spinning processes and ${LOCKS} locks`);
console.log(`lateness ms: p50 ${at(0.5)}  p99 ${at(0.99)}  p99.9 ${at(0.999)}  max ${late.at(-1)}`);
