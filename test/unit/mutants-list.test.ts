import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MUTANTS, PROOF_SUITES, type Mutant } from '../mutants/mutants.ts';
import { applyMutant, failureLine, mutantTable, staleMutants } from '../mutants/run.ts';
import { REPOSITORY } from '../support/repository-copy.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A scratch root holding a copy of the repository's `file` only. */
function scratchWith(file: string): string {
  const root = mkdtempSync(join(tmpdir(), 'mutants-list-'));
  dirs.push(root);
  mkdirSync(dirname(join(root, file)), { recursive: true });
  writeFileSync(join(root, file), readFileSync(join(REPOSITORY, file)));
  return root;
}

describe('the named mutants', () => {
  it('each search text is found exactly once in the code as it is (the list has not rotted)', () => {
    expect(staleMutants(MUTANTS)).toEqual([]);
  });

  it('names are unique and every mutant says what it breaks; the proof suites are files that exist', () => {
    expect(new Set(MUTANTS.map((m) => m.name)).size).toBe(MUTANTS.length);
    for (const m of MUTANTS) {
      expect(m.breaks.length, m.name).toBeGreaterThan(20);
      expect(m.replace, m.name).not.toBe(m.search);
    }
    for (const file of PROOF_SUITES.flatMap((s) => s.files)) expect(() => readFileSync(join(REPOSITORY, file))).not.toThrow();
  });

  it('a mutant is applied to the copy only, as its exact replacement', () => {
    const mutant = MUTANTS[0]!;
    const root = scratchWith(mutant.file);
    const original = readFileSync(join(REPOSITORY, mutant.file), 'utf8');
    applyMutant(root, mutant);
    const mutated = readFileSync(join(root, mutant.file), 'utf8');
    expect(mutated).toBe(original.replace(mutant.search, mutant.replace));
    expect(mutated).not.toContain(mutant.search);
    expect(readFileSync(join(REPOSITORY, mutant.file), 'utf8')).toBe(original);
  });

  it('a mutant whose code moved fails loudly, naming the mutant, the file and the text', () => {
    const moved: Mutant = { ...MUTANTS[0]!, name: 'moved', search: 'this text is in no file of the rotator' };
    const root = scratchWith(moved.file);
    expect(() => applyMutant(root, moved)).toThrow(/mutant moved: its search text is found 0 times in src\/lease\/credential-lock\.ts/);
    expect(staleMutants([{ ...moved, file: 'src/no-such-file.ts' }])).toEqual(['moved: src/no-such-file.ts does not exist']);
  });

  it('a failure is told by the violation the suite found, else by its first line', () => {
    const diff = [
      'AssertionError: expected [ Array(1) ] to deeply equal []',
      '- Expected',
      '+ Received',
      '- []',
      '+ [',
      '+   "before provider.revoke: generation 1 was revoked while AWSCURRENT held it",',
      '+ ]',
    ];
    expect(failureLine(diff.join('\n'))).toBe('before provider.revoke: generation 1 was revoked while AWSCURRENT held it');
    expect(failureLine('Error: Property failed after 24 tests\n{ seed: 1 }')).toBe('Error: Property failed after 24 tests');
  });

  it('the table ends with the count of killed mutants', () => {
    const table = mutantTable([
      { mutant: MUTANTS[0]!, killed: true, by: 'interleavings', seconds: 12 },
      { mutant: MUTANTS[1]!, killed: false, seconds: 40 },
    ]);
    expect(table.split('\n').at(-1)).toBe('mutants: 1 of 2 killed by the proof suites');
    expect(table).toContain(`| ${MUTANTS[1]!.name} | ${MUTANTS[1]!.breaks} | SURVIVED | — | 40 s |`);
  });
});
