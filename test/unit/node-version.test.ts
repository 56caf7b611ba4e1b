import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EXIT_UNSUPPORTED, REQUIRED, unsupportedNode } from '../../bin/node-version.mjs';
import { EXIT } from '../../src/cli/exit-codes.ts';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { engines: { node: string } };

describe('the Node.js the entry accepts', () => {
  it('is the range package.json engines declares, and refuses with the usage exit code', () => {
    expect(REQUIRED).toBe(pkg.engines.node);
    expect(EXIT_UNSUPPORTED).toBe(EXIT.usage);
  });

  it('accepts Node.js with type stripping unflagged: 22.18 on, 23.6 on, 24 and later', () => {
    for (const version of ['22.18.0', '22.20.1', '23.6.0', '23.11.1', '24.0.0', '24.21.0', '25.1.0', '30.0.0'])
      expect(unsupportedNode(version), version).toBeUndefined();
  });

  it('refuses older ones in one line naming the version found and the range needed', () => {
    for (const version of ['22.17.1', '22.6.0', '23.5.0', '20.20.2', '18.0.0', '16.20.2']) {
      const message = unsupportedNode(version);
      expect(message, version).toBe(
        `Node.js ${version} is not supported: the rotator needs Node.js ^22.18.0 || >=23.6.0 (24 LTS recommended), which runs its TypeScript directly`,
      );
    }
  });
});
