/**
 * What the rotator writes into the description of every Credly token and OAuth application it
 * creates: the rotation id lets a resumed rotation find what it created before a crash, and the
 * credential id keeps two credentials of one organization from reaping each other's.
 */
export const ROTATOR_MARKER = 'credential-rotator';
const MARKER = /^credential-rotator ([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}) credential=([a-z0-9._-]+)$/;

export function rotatorDescription(rotationId: string, credentialId: string): string {
  return `${ROTATOR_MARKER} ${rotationId} credential=${credentialId}`;
}

/** The marker's parts, or undefined for anything the rotator did not create. */
export function parseMarker(description: string | null): { rotationId: string; credentialId: string } | undefined {
  const m = description === null ? null : MARKER.exec(description);
  return m ? { rotationId: m[1]!, credentialId: m[2]! } : undefined;
}
