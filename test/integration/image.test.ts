import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'rotator-image-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(cmd: string, args: string[], cwd: string, env: Record<string, string> = {}) {
  const result = spawnSync(cmd, args, { cwd, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 240_000 });
  return { code: result.status, out: `${result.stdout}${result.stderr}` };
}

/**
 * What the Dockerfile's stages do, by hand in a clean copy (compile, production dependencies only,
 * run the entrypoint): quick, and inside `npm test`. The image itself is built by buildah and run
 * by scripts/image-test.sh, which CI runs after `npm test`.
 */
describe('the container image, stage by stage (no Docker engine here)', () => {
  it('builds, installs production dependencies only, and runs its entrypoint from a clean copy', () => {
    const app = join(dir, 'app');
    // build stage: tsc to JavaScript (into the copy, not the working tree, whose bin would then prefer it)
    const tsc = run(
      process.execPath,
      [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json'), '--outDir', join(app, 'dist')],
      root,
    );
    expect(tsc.code, tsc.out).toBe(0);
    // runtime stage: package files, bin, examples; production dependencies only. Without a registry
    // to install from in a test, the installed tree is copied and pruned to what --omit=dev keeps.
    for (const f of ['package.json', 'package-lock.json', 'bin', 'examples', 'node_modules']) cpSync(join(root, f), join(app, f), { recursive: true });
    const install = run('npm', ['prune', '--omit=dev', '--omit=optional', '--offline', '--no-audit', '--no-fund', '--ignore-scripts'], app);
    expect(install.code, install.out).toBe(0);
    expect(existsSync(join(app, 'node_modules/bullmq'))).toBe(true);
    for (const dev of ['vitest', 'typescript', 'eslint', 'testcontainers', 'node']) expect(existsSync(join(app, 'node_modules', dev)), dev).toBe(false);
    // The dashboard's packages are optional: the default image leaves them (and express) out.
    for (const optional of ['@bull-board/api', '@bull-board/express', 'express']) expect(existsSync(join(app, 'node_modules', optional)), optional).toBe(false);
    expect(existsSync(join(app, 'src'))).toBe(false);

    // the entrypoint, `node --max-semi-space-size=2 bin/rotator.mjs`, runs the compiled CLI
    const help = run(process.execPath, ['--max-semi-space-size=2', 'bin/rotator.mjs', '--help'], app);
    expect(help.code, help.out).toBe(0);
    expect(help.out).toContain('usage: rotator <command>');
    const check = run(process.execPath, ['bin/rotator.mjs', 'check', '--config-only', '--config', 'examples/inventory.yaml'], app, {
      NODE_ENV: 'production',
    });
    expect(check.code, check.out).toBe(0);
    expect(check.out).toContain('configuration valid: 4 credential(s), 3 alert sink(s)');

    // Asking that installation for the dashboard is a configuration error at start, naming what is missing.
    const dashboard = run(process.execPath, ['bin/rotator.mjs', 'check', '--config-only', '--config', 'examples/inventory.yaml'], app, {
      NODE_ENV: 'production',
      ROTATOR_DASHBOARD: 'on',
      ROTATOR_DASHBOARD_USER: 'ops',
      ROTATOR_DASHBOARD_PASSWORD: 'a-long-dashboard-password',
    });
    expect(dashboard.code, dashboard.out).toBe(2);
    expect(dashboard.out).toContain(
      "environment: ROTATOR_DASHBOARD: is on, but the dashboard's packages are not installed (@bull-board/api, @bull-board/express)",
    );
    expect(dashboard.out).toContain('--build-arg DASHBOARD_PACKAGES=include');
  }, 300_000);

  it('declares a multi-stage build on a pinnable LTS base, a non-root user, production dependencies only, no npm and no secret', () => {
    const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
    // Every stage on one base, named by a build argument so that a build can pin it by digest.
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:24-bookworm-slim$/m);
    const from = [...dockerfile.matchAll(/^FROM (\S+) AS (\S+)/gm)].map((m) => `${m[1]} ${m[2]}`);
    expect(from).toEqual(['${NODE_IMAGE} build', '${NODE_IMAGE} deps', '${NODE_IMAGE} runtime']);
    expect(dockerfile).toMatch(/omit\) npm ci --omit=dev --omit=optional/);
    // The runtime stage removes the package managers and installs nothing itself.
    const runtime = dockerfile.slice(dockerfile.indexOf('AS runtime'));
    expect(runtime).toMatch(/RUN rm -rf \/usr\/local\/lib\/node_modules \/usr\/local\/bin\/npm \/usr\/local\/bin\/npx/);
    expect(runtime).not.toMatch(/npm ci|npm install/);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["node", "--max-semi-space-size=2", "bin\/rotator.mjs"\]$/m);
    expect(dockerfile).toMatch(/^CMD \["worker"\]$/m);
    expect(dockerfile).not.toMatch(/^(ENV|ARG)\b.*(SECRET|TOKEN|PASSWORD|AWS_ACCESS|AWS_SECRET)/im);
    const ignore = readFileSync(join(root, '.dockerignore'), 'utf8').split('\n');
    for (const entry of ['node_modules', '.git', 'test', '.local']) expect(ignore).toContain(entry);
  });
});
