// Prints the closing line CI counts (`N passed, N failed`) from vitest's JSON report.
import { existsSync, readFileSync } from 'node:fs';

const file = process.argv[2] ?? '.local/vitest.json';
if (!existsSync(file)) {
  console.error(`no test report at ${file}: vitest did not run`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}
const report = JSON.parse(readFileSync(file, 'utf8')) as {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
  numTotalTests: number;
};
if (report.numTotalTests === 0) {
  console.error('vitest ran no test');
  console.log('0 passed, 1 failed');
  process.exit(1);
}
const skipped = report.numPendingTests + report.numTodoTests;
// Only tests that need a tool this machine cannot have (helm) are skipped; they are named above.
if (skipped) console.log(`${skipped} skipped (see the report above)`);
console.log(`${report.numPassedTests} passed, ${report.numFailedTests} failed`);
