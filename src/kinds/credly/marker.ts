import { secretDigest, type RotatorMarker } from '../../rotation/rotation-provider.ts';

/**
 * What the rotator writes into the description of every Credly token and OAuth application it
 * creates:
 *
 *   credential-rotator <rotation id> credential=<credential id> scope=<deployment> secret=<digest> replaces=<id|->
 *
 * The rotation id lets a resumed rotation find what it created before a crash; the credential id,
 * the deployment scope (the queue prefix) and the secret's digest (secretDigest: the first 12 hex
 * digits of the SHA-256 of the secret's name, never its value) keep two credentials, or two
 * deployments sharing an organization, from reaping each other's — the digest tells apart two
 * deployments left at the default prefix; `replaces` names the credential this one replaced (`-`:
 * none known, the secret was lost), a record that outlives Redis. Descriptions written before
 * scopes existed (`credential-rotator <rotation id> credential=<id>`), and with a scope but before
 * the digest, still parse, without the parts they lack.
 */
export const ROTATOR_MARKER = 'credential-rotator';
const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const MARKER = new RegExp(`^credential-rotator (${UUID}) credential=([a-z0-9._-]+)(?: scope=(\\S{1,100})(?: secret=([0-9a-f]{12}))? replaces=(\\S{1,200}))?$`);
/** `replaces=-`: the rotation knew no credential to replace. */
const NOTHING = '-';

export function rotatorDescription(rotationId: string, credentialId: string, where?: { scope: string; secretId: string; replaces: string }): string {
  const base = `${ROTATOR_MARKER} ${rotationId} credential=${credentialId}`;
  if (!where) return base;
  return `${base} scope=${where.scope} secret=${secretDigest(where.secretId)} replaces=${where.replaces === '' ? NOTHING : where.replaces}`;
}

/** The marker's parts, or undefined for anything the rotator did not create. */
export function parseMarker(description: string | null): RotatorMarker | undefined {
  const m = description === null ? null : MARKER.exec(description);
  if (!m) return undefined;
  const marker: RotatorMarker = { rotationId: m[1]!, credentialId: m[2]! };
  if (m[3] !== undefined) {
    marker.scope = m[3];
    if (m[4] !== undefined) marker.secret = m[4];
    marker.replaces = m[5] === NOTHING ? '' : m[5]!;
  }
  return marker;
}
