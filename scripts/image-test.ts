// `bash scripts/image-test.sh`: the image built from the Dockerfile, unchanged, by buildah (chroot
// isolation), on a local stand-in of its base image; then its entrypoint run as its own user on a
// read-only root filesystem: `check --config-only`, the dashboard refused without its packages,
// and a worker against the local Redis, the Secrets Manager emulator and the Credly fake that
// answers /healthz and /readyz and rotates a token triggered by the image's own CLI. Prints each
// check, the timings and the image's size; the last line is `image: N passed, N failed`.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createSecretStore, createSecretsManagerClient } from '../src/secrets/secret-store.ts';
import { parseSecretValue } from '../src/kinds/registry.ts';
import { startCredlyFake } from '../test/fakes/credly.fake.ts';
import { buildah, imageConfig, imageSize, sh, streamed } from './image/buildah.ts';
import { innerProcess, runInImage, type ImageProcess } from './image/sandbox.ts';
import { ensureStandinBase } from './image/standin-base.ts';
import { emulatorAwsEnv, freePort, startLocalServices } from './local-services.ts';

const root = resolve(import.meta.dirname, '..');
// One tag per run: two CI runs on one machine never remove each other's image.
const IMAGE = `localhost/credential-rotator:image-test-${process.pid}`;
const NPM_VERSION = '11.21.2';
const DAY = 86_400_000;

const results: Array<{ name: string; ok: boolean; detail: string }> = [];
function check(name: string, ok: boolean, detail = ''): void {
  results.push({ name, ok, detail });
  console.log(`  ${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? ` — ${detail}` : ''}`);
}
const seconds = (since: number) => ((Date.now() - since) / 1000).toFixed(1);

async function httpStatus(url: string): Promise<number> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await response.arrayBuffer();
    return response.status;
  } catch {
    return 0;
  }
}
async function waitForStatus(url: string, want: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if ((await httpStatus(url)) === want) return true;
    await sleep(200);
  }
  return false;
}

async function main(): Promise<void> {
  const started = Date.now();
  console.log('== stand-in base image');
  const base = await ensureStandinBase({ nodeVersion: process.versions.node, npmVersion: NPM_VERSION, caBundle: process.env.NODE_EXTRA_CA_CERTS });
  console.log(`  ${base.cached ? 'reused' : 'built'} ${base.name} as node:24-bookworm-slim in ${base.seconds.toFixed(1)} s`);

  console.log('== buildah bud (the Dockerfile, unchanged)');
  const buildStarted = Date.now();
  await streamed('buildah', ['bud', '--pull=never', '--layers=false', '-t', IMAGE, '-f', join(root, 'Dockerfile'), root], '  ');
  const buildSeconds = seconds(buildStarted);
  console.log(`  built ${IMAGE} in ${buildSeconds} s`);

  const { config } = imageConfig(IMAGE);
  check('the image runs as its own unprivileged user', config.User === 'node', `USER ${config.User}`);
  check(
    'its entrypoint is the compiled CLI',
    JSON.stringify(config.Entrypoint) === '["node","--max-semi-space-size=2","bin/rotator.mjs"]' && JSON.stringify(config.Cmd) === '["worker"]',
    `${config.Entrypoint.join(' ')} ${config.Cmd.join(' ')}`,
  );

  const container = buildah('from', '--pull=never', IMAGE);
  const work = mkdtempSync(join(tmpdir(), 'rotator-image-test-'));
  const cleanups: Array<() => Promise<void> | void> = [() => rmSync(work, { recursive: true, force: true }), () => void sh('buildah', ['rm', container])];
  try {
    const rootfs = buildah('mount', container);
    cleanups.push(() => void sh('buildah', ['umount', container]));
    const absent = ['usr/local/bin/npm', 'usr/local/bin/npx', 'usr/local/lib/node_modules/npm', 'usr/local/bin/corepack'].filter((p) =>
      existsSync(join(rootfs, p)),
    );
    check('no package manager in the runtime image', absent.length === 0, absent.length ? `present: ${absent.join(', ')}` : 'npm, npx, corepack absent');
    const extra = [
      'app/src',
      'app/test',
      'app/node_modules/typescript',
      'app/node_modules/vitest',
      'app/node_modules/@bull-board',
      'app/node_modules/express',
    ].filter((p) => existsSync(join(rootfs, p)));
    check(
      'compiled code and production dependencies only, without the optional dashboard packages',
      extra.length === 0 && existsSync(join(rootfs, 'app/dist/src/cli/main.js')),
      extra.join(', '),
    );
    const appBytes = Number(sh('du', ['-sb', join(rootfs, 'app')]).split('\t')[0]);

    // The root filesystem of every run below is mounted read-only: prove it is, as root even.
    const write = runInImage({ root: rootfs, config, argv: ['/bin/sh', '-c', 'touch /app/probe; touch /tmp/probe && echo tmp-writable'], user: '0:0' });
    await write.exited;
    check(
      'the root filesystem is read-only in the sandbox, /tmp writable',
      write.output().includes('Read-only file system') && write.output().includes('tmp-writable'),
      write.output().replace(/\n/g, ' | '),
    );

    const checkRun = runInImage({ root: rootfs, config, args: ['check', '--config-only', '--config', 'examples/inventory.yaml'] });
    const checkCode = await checkRun.exited;
    check(
      '`check --config-only` through the entrypoint, as uid 1000, read-only root',
      checkCode === 0 && checkRun.output().includes('configuration valid'),
      `exit ${checkCode}: ${checkRun.output().trim()}`,
    );

    const dashboard = runInImage({
      root: rootfs,
      config,
      args: ['check', '--config-only', '--config', 'examples/inventory.yaml'],
      env: { ROTATOR_DASHBOARD: 'on', ROTATOR_DASHBOARD_USER: 'ops', ROTATOR_DASHBOARD_PASSWORD: 'a-long-dashboard-password' },
    });
    const dashboardCode = await dashboard.exited;
    check(
      'the dashboard asked for without its packages: exit 2 naming them',
      dashboardCode === 2 && dashboard.output().includes("the dashboard's packages are not installed"),
      `exit ${dashboardCode}`,
    );

    await workerScenario(rootfs, config, work, cleanups);
    await dashboardPackagesStage();

    console.log('== figures');
    console.log(`  image ${IMAGE}: ${imageSize(IMAGE)} (stand-in base ${imageSize(base.name)}; /app ${(appBytes / 1e6).toFixed(1)} MB)`);
    console.log(`  base ${base.cached ? 'reused' : 'built'} ${base.seconds.toFixed(1)} s, build ${buildSeconds} s, total ${seconds(started)} s`);
  } finally {
    for (const fn of cleanups.reverse()) {
      try {
        await fn();
      } catch (error) {
        console.error(`  cleanup: ${(error as Error).message}`);
      }
    }
    sh('buildah', ['rmi', IMAGE]);
  }
}

/** The documented build argument: the deps stage with DASHBOARD_PACKAGES=include holds the board's packages. */
async function dashboardPackagesStage(): Promise<void> {
  const name = `${IMAGE}-deps`;
  const started = Date.now();
  await streamed(
    'buildah',
    [
      'bud',
      '--pull=never',
      '--layers=false',
      '--target',
      'deps',
      '--build-arg',
      'DASHBOARD_PACKAGES=include',
      '-t',
      name,
      '-f',
      join(root, 'Dockerfile'),
      root,
    ],
    '  ',
  );
  const container = buildah('from', '--pull=never', name);
  try {
    const rootfs = buildah('mount', container);
    const present = ['@bull-board/api', '@bull-board/express', 'express'].filter((p) => existsSync(join(rootfs, 'app/node_modules', p)));
    check("--build-arg DASHBOARD_PACKAGES=include installs the dashboard's packages", present.length === 3, `${present.join(', ')} in ${seconds(started)} s`);
  } finally {
    sh('buildah', ['rm', container]);
    sh('buildah', ['rmi', name]);
  }
}

async function workerScenario(
  rootfs: string,
  config: ReturnType<typeof imageConfig>['config'],
  work: string,
  cleanups: Array<() => Promise<void> | void>,
): Promise<void> {
  console.log('== the image as a worker, against the local Redis, Secrets Manager emulator and Credly fake');
  const services = await startLocalServices({ dir: join(work, 'services') });
  cleanups.push(() => services.stop());
  const credly = await startCredlyFake();
  cleanups.push(() => credly.close());
  const awsEnv = emulatorAwsEnv(services.secretsManagerEndpoint);
  Object.assign(process.env, awsEnv);
  const store = createSecretStore(createSecretsManagerClient());
  const run = Date.now().toString(36);
  const org = credly.state.addOrganization('Image Test Academy');
  const old = credly.state.addToken(org, { description: 'LMS', createdAt: new Date(Date.now() - 170 * DAY) });
  const secretId = `image-test/${run}/credly-main`;
  await store.putCurrent(secretId, JSON.stringify({ token: old.token, tokenId: old.id, organizationId: org }));
  const configDir = join(work, 'config');
  sh('mkdir', ['-p', configDir]);
  writeFileSync(
    join(configDir, 'inventory.yaml'),
    `version: 1\ndefaults:\n  revokePreviousAfter: 0s\n  forceCooldown: 0s\ncredentials:\n  - id: credly-main\n    kind: credly-authorization-token\n    secretId: ${secretId}\n    organizationId: ${org}\n    environment: sandbox\n    endpoints: { apiBase: "${credly.apiBase}" }\n`,
  );
  const port = await freePort();
  const env = {
    ...awsEnv,
    REDIS_URL: services.redisUrl,
    ROTATOR_CONFIG: '/mnt/inventory.yaml',
    ROTATOR_QUEUE_PREFIX: `{image-${run}}`,
    ROTATOR_HTTP_PORT: String(port),
  };
  const binds = [{ host: configDir, target: '/mnt' }];
  const worker: ImageProcess = runInImage({ root: rootfs, config, env, binds });
  cleanups.push(async () => {
    if (worker.child.exitCode === null) {
      const inner = worker.child.pid ? innerProcess(worker.child.pid) : undefined;
      if (inner) process.kill(inner.pid, 'SIGKILL');
      await worker.exited;
    }
  });

  const healthy = await waitForStatus(`http://127.0.0.1:${port}/healthz`, 200, 60_000);
  const ready = healthy && (await waitForStatus(`http://127.0.0.1:${port}/readyz`, 200, 30_000));
  check('the worker answers /healthz and /readyz', healthy && ready, `port ${port}`);
  const inner = worker.child.pid ? innerProcess(worker.child.pid) : undefined;
  check(
    'the worker process is not root',
    inner !== undefined && inner.uid === 1000 && inner.euid === 1000,
    inner ? `pid ${inner.pid} uid ${inner.uid} euid ${inner.euid}: ${inner.command}` : 'not found',
  );

  // The image's own CLI triggers the rotation and waits for it; the worker in the image does it.
  const trigger = runInImage({
    root: rootfs,
    config,
    env: { ...env, ROTATOR_HTTP_PORT: '0' },
    binds,
    args: ['trigger', 'credly-main', '--force', '--wait', '--timeout', '120'],
  });
  const triggerCode = await trigger.exited;
  check(
    '`trigger --force --wait` from the image: the rotation succeeded',
    triggerCode === 0,
    `exit ${triggerCode}: ${trigger.output().trim().split('\n').pop() ?? ''}`,
  );
  const after = parseSecretValue('credly-authorization-token', (await store.readCurrent(secretId)).secretString);
  const rotated = after.tokenId !== old.id && credly.state.isTokenValid(after.token) && !credly.state.isTokenValid(old.token);
  check('the secret holds a new working token and the old one is revoked', rotated, `token ${old.id} → ${after.tokenId ?? '?'}`);
  const metrics = await fetch(`http://127.0.0.1:${port}/metrics`)
    .then((r) => r.text())
    .catch(() => '');
  check('/metrics counts the rotation', /rotator_jobs_total\{[^}]*credential="credly-main"[^}]*\} 1/.test(metrics));

  const innerNow = worker.child.pid ? innerProcess(worker.child.pid) : undefined;
  if (innerNow) process.kill(innerNow.pid, 'SIGTERM');
  const code = await Promise.race([worker.exited, sleep(45_000).then(() => 'timeout' as const)]);
  check('SIGTERM stops the worker cleanly (exit 0)', code === 0, `exit ${String(code)}`);
  const values = [old.token, after.token];
  const leaked = values.filter((v) => worker.output().includes(v) || trigger.output().includes(v)).length;
  check("no token value in the image processes' output", leaked === 0, `${leaked} found`);
}

await main().catch((error: unknown) => check('the image test ran to its end', false, error instanceof Error ? error.message : String(error)));
const failed = results.filter((r) => !r.ok).length;
console.log(`image: ${results.length - failed} passed, ${failed} failed`);
process.exitCode = failed === 0 ? 0 : 1;
