// Which Node.js the rotator runs on. Plain JavaScript that any Node.js able to load a module can
// parse (no newer syntax), so that an old one gets this one line instead of a stack trace from the
// first `.ts` import. Keep it in step with package.json `engines` (test/unit/node-version.test.ts).

/** The supported range: Node.js strips TypeScript types unflagged from 22.18 and 23.6 on. */
export const REQUIRED = '^22.18.0 || >=23.6.0';

/** The exit code for an unsupported Node.js: 2, bad usage or configuration (src/cli/exit-codes.ts). */
export const EXIT_UNSUPPORTED = 2;

/**
 * Why `version` (as `process.versions.node` gives it: `20.20.2`) cannot run the rotator, in one
 * line (without the `rotator:` a terminal gets) naming it and the range needed; undefined when it can.
 */
export function unsupportedNode(version) {
  const parts = String(version).split('.');
  const major = Number(parts[0]);
  const minor = Number(parts[1]);
  const supported = major > 23 || (major === 23 && minor >= 6) || (major === 22 && minor >= 18);
  if (supported) return undefined;
  return 'Node.js ' + version + ' is not supported: the rotator needs Node.js ' + REQUIRED + ' (24 LTS recommended), which runs its TypeScript directly';
}
