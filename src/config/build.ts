import { resolveEndpoints } from './endpoints.ts';
import { degreedProbePath, LEARNLINK_PROBE } from './probe.ts';
import type { RawInventory } from './inventory.schema.ts';
import type { CredentialConfig, Inventory } from './types.ts';

/** Applies `defaults` and derives endpoints: the inventory the rest of the rotator reads. */
export function buildInventory(parsed: RawInventory): Inventory {
  const { defaults } = parsed;
  const credentials = parsed.credentials.map((c): CredentialConfig => {
    const schedule = c.schedule ?? defaults.schedule;
    switch (c.kind) {
      case 'credly-authorization-token':
        return {
          id: c.id,
          kind: c.kind,
          secretId: c.secretId,
          schedule,
          organizationId: c.organizationId,
          environment: c.environment,
          rotateWhenExpiresWithinMs: c.rotateWhenExpiresWithin ?? defaults.rotateWhenExpiresWithin,
          revokePreviousAfterMs: c.revokePreviousAfter ?? defaults.revokePreviousAfter,
          useRotateEndpoint: c.useRotateEndpoint,
          deleteSupported: c.deleteSupported,
          testWithOrganizationEndpoint: c.testWithOrganizationEndpoint,
          endpoints: resolveEndpoints(c),
        };
      case 'credly-oauth-application':
        return {
          id: c.id,
          kind: c.kind,
          secretId: c.secretId,
          schedule,
          organizationId: c.organizationId,
          environment: c.environment,
          managedBy: c.managedBy,
          applicationName: c.applicationName,
          scopes: c.scopes,
          tokenRequestEncoding: c.tokenRequestEncoding,
          ...(c.recreateEvery !== undefined ? { recreateEveryMs: c.recreateEvery } : {}),
          revokePreviousAfterMs: c.revokePreviousAfter ?? defaults.revokePreviousAfter,
          endpoints: resolveEndpoints(c),
        };
      case 'degreed-client-credentials':
        return {
          id: c.id,
          kind: c.kind,
          secretId: c.secretId,
          schedule,
          environment: c.environment,
          dataCenter: c.dataCenter,
          scopes: c.scopes,
          probe: c.probe,
          ...(c.probe ? { probePath: degreedProbePath(c.scopes, c.probePath) ?? '' } : {}),
          logoutMethod: c.logoutMethod,
          endpoints: resolveEndpoints(c),
        };
      case 'learnlink-client-credentials':
        return {
          id: c.id,
          kind: c.kind,
          secretId: c.secretId,
          schedule,
          ...(c.tenantId !== undefined ? { tenantId: c.tenantId } : {}),
          environment: c.environment,
          audience: c.audience,
          scopes: c.scopes,
          credentialsIn: c.credentialsIn,
          probe: c.probe,
          ...(c.probe ? { probePath: c.probePath ?? LEARNLINK_PROBE } : {}),
          endpoints: resolveEndpoints(c),
        };
    }
  });
  return { version: 1, credentials, alerts: parsed.alerts };
}
