import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { copyRepository, REPOSITORY } from '../support/repository-copy.ts';
import { PROOF_SUITES, type Mutant } from './mutants.ts';

/**
 * Runs named mutants (mutants.ts) against the proof suites: each mutant is applied in a scratch
 * copy of the repository (its files as git sees them, node_modules linked), never in the working
 * tree, and the suites run there one after the other with vitest, at npm test's scale; the first
 * that fails kills the mutant and the next ones are not run.
 */
export interface MutantResult {
  mutant: Mutant;
  killed: boolean;
  /** The suite that failed, when killed. */
  by?: string;
  /** The first failing test's name and message, shortened (never a secret: the suites print none). */
  detail?: string;
  seconds: number;
}

/** Where a mutant's search text does not occur exactly once, in `root`: one line each. */
export function staleMutants(mutants: readonly Mutant[], root: string = REPOSITORY): string[] {
  const problems: string[] = [];
  for (const m of mutants) {
    let text: string;
    try {
      text = readFileSync(join(root, m.file), 'utf8');
    } catch {
      problems.push(`${m.name}: ${m.file} does not exist`);
      continue;
    }
    const count = text.split(m.search).length - 1;
    if (count !== 1) problems.push(`${m.name}: its search text is found ${count} times in ${m.file} (expected once): ${JSON.stringify(m.search)}`);
  }
  return problems;
}

/** Applies `mutant` to the copy at `root`; throws, naming the mutant and file, when its search text is not there exactly once. */
export function applyMutant(root: string, mutant: Mutant): void {
  const problems = staleMutants([mutant], root);
  if (problems.length) throw new Error(`mutant ${problems[0]!}`);
  const path = join(root, mutant.file);
  const text = readFileSync(path, 'utf8');
  writeFileSync(
    path,
    text.replace(mutant.search, () => mutant.replace),
  );
}

interface VitestReport {
  testResults?: Array<{
    name: string;
    status: string;
    message?: string;
    assertionResults?: Array<{ fullName: string; status: string; failureMessages?: string[] }>;
  }>;
}

/**
 * The line of a failure that says what broke: the first value the suite found but expected none of
 * (vitest's diff, `+   "…"`: a violation, a missed soak row), else the message's first line.
 */
export function failureLine(message: string): string {
  const lines = message.split('\n');
  const found = lines.map((l) => /^\+\s+"(.*)",?$/.exec(l.trim())?.[1]).find((l) => l !== undefined);
  return (found ?? lines[0] ?? '').slice(0, 300);
}

/** Runs vitest on `files` in `cwd`; resolves with whether every test passed, and the first failure. */
async function runVitest(cwd: string, files: readonly string[], onLine: (line: string) => void): Promise<{ passed: boolean; failure?: string }> {
  const reportFile = join(cwd, '.mutant-vitest.json');
  const vitest = join(REPOSITORY, 'node_modules', 'vitest', 'vitest.mjs');
  const args = [vitest, 'run', '--reporter=dot', '--reporter=json', `--outputFile.json=${reportFile}`, ...files];
  const code = await new Promise<number>((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd, env: { ...process.env, FORCE_COLOR: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let tail = '';
    const keep = (chunk: Buffer) => {
      tail = (tail + chunk.toString()).slice(-4000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    // Stopped by a person: vitest is told to stop too, and tears its Redis and emulator down.
    let stopped = false;
    const stop = () => {
      stopped = true;
      child.kill('SIGTERM');
    };
    process.once('SIGINT', stop).once('SIGTERM', stop);
    child.on('error', reject);
    child.on('close', (status, signal) => {
      process.off('SIGINT', stop).off('SIGTERM', stop);
      if (stopped || signal !== null) return reject(new Error(`the proof suites were stopped (${signal ?? 'by a signal'})`));
      if (status !== 0) for (const line of tail.split('\n').slice(-6)) if (line.trim()) onLine(`    ${line.trim()}`);
      resolve(status ?? 1);
    });
  });
  let report: VitestReport;
  try {
    report = JSON.parse(readFileSync(reportFile, 'utf8')) as VitestReport;
  } catch {
    return { passed: false, failure: `vitest exited ${code} without a report (the mutant broke the build or the run)` };
  }
  for (const file of report.testResults ?? []) {
    const failed = (file.assertionResults ?? []).find((a) => a.status === 'failed');
    if (failed) return { passed: false, failure: failureLine(failed.failureMessages?.[0] ?? '') || failed.fullName };
    if (file.status === 'failed') return { passed: false, failure: `${file.name}: ${(file.message ?? '').split('\n')[0]?.slice(0, 300) ?? ''}` };
  }
  return code === 0 ? { passed: true } : { passed: false, failure: `vitest exited ${code}` };
}

/** Applies each mutant in a scratch copy and runs the proof suites there. */
export async function runMutants(mutants: readonly Mutant[], onLine: (line: string) => void = () => {}): Promise<MutantResult[]> {
  const stale = staleMutants(mutants);
  if (stale.length) throw new Error(`mutants whose code moved (update test/mutants/mutants.ts):\n${stale.join('\n')}`);
  const results: MutantResult[] = [];
  for (const mutant of mutants) {
    const started = performance.now();
    const root = mkdtempSync(join(tmpdir(), `rotator-mutant-${mutant.name}-`));
    try {
      await copyRepository(root);
      applyMutant(root, mutant);
      let result: MutantResult | undefined;
      for (const suite of PROOF_SUITES) {
        onLine(`${mutant.name}: ${suite.name}…`);
        const run = await runVitest(root, suite.files, onLine);
        if (!run.passed) {
          result = { mutant, killed: true, by: suite.name, ...(run.failure ? { detail: run.failure } : {}), seconds: 0 };
          break;
        }
      }
      result ??= { mutant, killed: false, seconds: 0 };
      result.seconds = Math.round((performance.now() - started) / 1000);
      onLine(`${mutant.name}: ${result.killed ? `killed by ${result.by}` : 'survived'} (${result.seconds} s)${result.detail ? ` — ${result.detail}` : ''}`);
      results.push(result);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }
  return results;
}

/** The table as printed, and the last line: `mutants: K of N killed by the proof suites`. */
export function mutantTable(results: readonly MutantResult[]): string {
  const rows = results.map((r) => `| ${r.mutant.name} | ${r.mutant.breaks} | ${r.killed ? 'killed' : 'SURVIVED'} | ${r.by ?? '—'} | ${r.seconds} s |`);
  const killed = results.filter((r) => r.killed).length;
  return [
    '| mutant | what it breaks | verdict | by | time |',
    '|---|---|---|---|---|',
    ...rows,
    '',
    `mutants: ${killed} of ${results.length} killed by the proof suites`,
  ].join('\n');
}
