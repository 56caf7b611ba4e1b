/**
 * `npm run soak`: the reliability soak at full scale, with a fixed seed (SOAK_SEED to change it).
 * Starts the local stand-ins, runs each scenario against real worker processes and prints a table
 * with every figure beside its target. Exits 1 when a figure misses its target.
 *
 *   npm run soak                      every scenario, full scale
 *   npm run soak -- --short           the scale `npm test` runs
 *   npm run soak -- crash clock       only the scenarios whose names contain these words
 *   npm run soak -- mutants           the named mutants against the proof suites (as npm run mutants)
 *   SOAK_VERBOSE=1 npm run soak       also one line per bad answer and per clock case
 *
 * A full-scale run writes its figures into the soak table of docs/reliability.md
 * (scripts/soak-report.ts): the rows of the scenarios it ran replace theirs.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { badAnswers } from '../test/soak/bad-answers.ts';
import { clock } from '../test/soak/clock.ts';
import { runScenario, soakSeed } from '../test/soak/context.ts';
import { crashMatrix } from '../test/soak/crash-matrix.ts';
import { faultSoak } from '../test/soak/fault-soak.ts';
import { interleavings } from '../test/soak/interleavings.ts';
import { mutants } from '../test/soak/mutants.ts';
import { properties } from '../test/soak/properties.ts';
import { redisRestart } from '../test/soak/redis-restart.ts';
import type { SoakRow, SoakScenario } from '../test/soak/report.ts';
import { smOutage } from '../test/soak/sm-outage.ts';
import { emulatorAwsEnv, startLocalServices } from './local-services.ts';
import { SOAK_DOCUMENT, writeSoakTable } from './soak-report.ts';

const SCENARIOS: Array<[string, SoakScenario]> = [
  ['fault soak', faultSoak],
  ['crash matrix', crashMatrix],
  ['redis restart', redisRestart],
  ['secrets manager outage', smOutage],
  ['bad answers', badAnswers],
  ['clock', clock],
  ['interleavings', interleavings],
  ['properties', properties],
  ['mutants', mutants],
];

/** The commit the figures were measured on (a fresh clone's HEAD), or `unknown` outside git. */
function commitOf(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const scale = args.includes('--short') ? 'short' : 'full';
  const words = args.filter((a) => !a.startsWith('--'));
  const chosen = SCENARIOS.filter(([name]) => words.length === 0 || words.some((w) => name.includes(w)));
  if (chosen.length === 0) {
    console.error(`no scenario matches ${words.join(', ')}; scenarios: ${SCENARIOS.map(([name]) => name).join(', ')}`);
    return 2;
  }
  console.log(`soak: seed ${soakSeed()}, ${scale} scale, ${chosen.map(([name]) => name).join(', ')}`);
  const services = await startLocalServices();
  const rows: SoakRow[] = [];
  const times: string[] = [];
  const begun = performance.now();
  try {
    process.env.REDIS_URL = services.redisUrl;
    Object.assign(process.env, emulatorAwsEnv(services.secretsManagerEndpoint));
    // No expiry radar in the soak's workers: its listings would move the crash points and fault draws.
    process.env.ROTATOR_RADAR = 'off';
    for (const [name, scenario] of chosen) {
      console.log(`\n▸ ${name}`);
      const start = performance.now();
      try {
        const result = await runScenario(scenario, scale, (line) => console.log(`  ${line}`));
        for (const row of result)
          console.log(`  ${row.ok ? '✓' : '✗'} ${row.figure}: ${row.value} (target ${row.target})${row.detail ? ` — ${row.detail}` : ''}`);
        rows.push(...result);
      } catch (error) {
        // A scenario that cannot finish is a failed row, not a crash of the whole soak.
        const message = (error as Error).message.split('\n')[0] ?? '';
        console.log(`  ✗ the scenario stopped: ${message}`);
        rows.push({ scenario: name, figure: 'scenario ran to the end', value: 'no', target: 'yes', ok: false, detail: message });
      }
      const seconds = ((performance.now() - start) / 1000).toFixed(0);
      console.log(`  (${seconds} s)`);
      times.push(`${name} ${seconds} s`);
    }
  } finally {
    await services.stop();
  }
  console.log('\n| scenario | figure | value | target | |\n|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.scenario} | ${r.figure} | ${r.value} | ${r.target} | ${r.ok ? 'met' : 'MISSED'} |`);
  const missedCount = rows.filter((r) => !r.ok).length;
  console.log(`\n${rows.length - missedCount} of ${rows.length} figures meet their targets`);
  if (scale === 'full') {
    const minutes = ((performance.now() - begun) / 60_000).toFixed(0);
    const footer = `Last written by \`npm run soak\` on ${new Date().toISOString().slice(0, 10)} at commit ${commitOf()}: seed ${soakSeed()}, ${minutes} minutes (${times.join(', ')}), ${rows.length - missedCount} of ${rows.length} figures met.`;
    writeFileSync(SOAK_DOCUMENT, writeSoakTable(readFileSync(SOAK_DOCUMENT, 'utf8'), rows, footer));
    console.log(`${SOAK_DOCUMENT}: soak table written`);
  }
  return missedCount === 0 ? 0 : 1;
}

process.exitCode = await main();
