/**
 * `npm run mutants`: named mutants the proof suites must kill (test/mutants/mutants.ts). Each is
 * applied in a scratch copy of the repository, never in the working tree, and only the interleaving
 * explorer and the property suite run there, at npm test's scale. Prints a table (mutant, what it
 * breaks, killed or survived, by which suite, time) and last `mutants: K of N killed by the proof
 * suites`. Exits 1 when a mutant survives, 2 when a mutant's search text is no longer in its file.
 *
 *   npm run mutants                          every mutant
 *   npm run mutants -- lease window          only the mutants whose names contain these words
 */
import { MUTANTS } from '../test/mutants/mutants.ts';
import { mutantTable, runMutants, staleMutants } from '../test/mutants/run.ts';

async function main(): Promise<number> {
  const words = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  const chosen = MUTANTS.filter((m) => words.length === 0 || words.some((w) => m.name.includes(w)));
  if (chosen.length === 0) {
    console.error(`no mutant matches ${words.join(', ')}; mutants: ${MUTANTS.map((m) => m.name).join(', ')}`);
    return 2;
  }
  // Every mutant, chosen or not: a list that no longer fits the code fails at once, loudly.
  const stale = staleMutants(MUTANTS);
  if (stale.length) {
    console.error(`mutants whose code moved (update test/mutants/mutants.ts):\n${stale.map((s) => `  ${s}`).join('\n')}`);
    return 2;
  }
  console.log(`mutants: ${chosen.length} (${chosen.map((m) => m.name).join(', ')})`);
  const results = await runMutants(chosen, (line) => console.log(`  ${line}`));
  console.log(`\n${mutantTable(results)}`);
  return results.every((r) => r.killed) ? 0 : 1;
}

process.exitCode = await main();
