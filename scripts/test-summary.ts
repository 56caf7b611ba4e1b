// Prints the closing line CI counts (`N passed, N failed`) from vitest's JSON report, and fails the
// run (exit 1) when a test was skipped, left todo, or none ran: a test that does not run proves
// nothing, so `npm test` cannot go green by leaving one out. (`.only` fails earlier: vitest.config.ts
// sets allowOnly: false.)
import { existsSync, readFileSync } from 'node:fs';

interface Report {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
  numTotalTests: number;
  testResults?: Array<{ name: string; assertionResults?: Array<{ fullName: string; status: string }> }>;
}

/** Statuses of a test that did not run (vitest's JSON reporter, Jest's names). */
const NOT_RUN = new Set(['skipped', 'pending', 'todo', 'disabled']);

const file = process.argv[2] ?? '.local/vitest.json';
if (!existsSync(file)) {
  console.error(`no test report at ${file}: vitest did not run`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}
const report = JSON.parse(readFileSync(file, 'utf8')) as Report;
if (report.numTotalTests === 0) {
  console.error('vitest ran no test');
  console.log('0 passed, 1 failed');
  process.exit(1);
}
const notRun = (report.testResults ?? []).flatMap((f) =>
  (f.assertionResults ?? []).filter((a) => NOT_RUN.has(a.status)).map((a) => `  ${a.status}: ${f.name.replace(`${process.cwd()}/`, '')} > ${a.fullName}`),
);
const skipped = Math.max(report.numPendingTests + report.numTodoTests, notRun.length);
if (skipped) {
  console.error(`${skipped} test(s) skipped or todo: every test must run (no it.skip, it.todo, skipIf, or a -t filter through npm test)`);
  for (const line of notRun) console.error(line);
}
console.log(`${report.numPassedTests} passed, ${report.numFailedTests + skipped} failed${skipped ? ` (${skipped} of them skipped or todo)` : ''}`);
process.exit(report.numFailedTests + skipped > 0 ? 1 : 0);
