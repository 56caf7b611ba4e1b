/**
 * The named mutants (test/mutants/mutants.ts) as a soak scenario: each applied in a scratch copy
 * of the repository, where only the interleaving explorer and the property suite run, at npm
 * test's scale whatever the soak's. One row per mutant (killed, by which suite), and the count.
 * Not run by npm test: it runs those two suites once per mutant.
 */
import { MUTANTS } from '../mutants/mutants.ts';
import { runMutants } from '../mutants/run.ts';
import type { SoakContext, SoakRow, SoakScenario } from './report.ts';

const SCENARIO = 'mutants';

export const mutants: SoakScenario = async (ctx: SoakContext): Promise<SoakRow[]> => {
  const results = await runMutants(MUTANTS, (line) => ctx.log(line));
  const killed = results.filter((r) => r.killed).length;
  return [
    ...results.map((r) => ({
      scenario: SCENARIO,
      figure: `${r.mutant.name} (${r.mutant.breaks})`,
      value: r.killed ? `killed by ${r.by ?? ''} (${r.seconds} s)` : `survived (${r.seconds} s)`,
      target: 'killed',
      ok: r.killed,
    })),
    {
      scenario: SCENARIO,
      figure: 'mutants killed by the proof suites',
      value: `${killed} of ${results.length}`,
      target: `${results.length} of ${results.length}`,
      ok: killed === results.length,
    },
  ];
};
