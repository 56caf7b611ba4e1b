import type { CredentialKind } from '../credential-kinds.ts';
import type {
  CredlyEndpoints,
  CredlyEnvironment,
  DegreedDataCenter,
  DegreedEndpoints,
  DegreedEnvironment,
  LearnlinkAudience,
  LearnlinkEndpoints,
  LearnlinkEnvironment,
} from './endpoints.ts';
import type { SecretRef } from './fields.ts';

/** Fields every credential has once defaults are applied. Durations are in milliseconds. */
interface CredentialBase {
  /** Unique; safe in job ids and Redis keys (no ":"). */
  id: string;
  kind: CredentialKind;
  /** Secrets Manager name or ARN; unique across the inventory. */
  secretId: string;
  /** Cron (5 fields, or 6 with seconds first), UTC. Default `defaults.schedule`, itself default `0 3 * * *`. */
  schedule: string;
}

export interface CredlyTokenConfig extends CredentialBase {
  kind: 'credly-authorization-token';
  /** Lower-case UUID. */
  organizationId: string;
  environment: CredlyEnvironment;
  /** Rotate once the token expires within this. Default `defaults.rotateWhenExpiresWithin`, itself default 30d. */
  rotateWhenExpiresWithinMs: number;
  /** Overlap before the previous token is revoked. Default `defaults.revokePreviousAfter`, itself default 0. */
  revokePreviousAfterMs: number;
  /** Use Credly's rotate endpoint, which kills the calling token at once. Default false. */
  useRotateEndpoint: boolean;
  /** Revoke old tokens with DELETE (an unconfirmed endpoint); false leaves them to expire. Default true. */
  deleteSupported: boolean;
  /** Also `GET /organizations/{id}` (in no vendor page) when testing a new token, beside the listing. Default false. */
  testWithOrganizationEndpoint: boolean;
  endpoints: CredlyEndpoints;
}

export interface CredlyOAuthAppConfig extends CredentialBase {
  kind: 'credly-oauth-application';
  /** Lower-case UUID. */
  organizationId: string;
  environment: CredlyEnvironment;
  /** Id of the credly-authorization-token (same organization and environment) that makes the management calls. */
  managedBy: string;
  /** Name given when (re)creating the application. */
  applicationName: string;
  /** Credly scopes, at least one (CREDLY_SCOPES). */
  scopes: string[];
  /** Body encoding of the OAuth token request (in no vendor page). Default `form`. */
  tokenRequestEncoding: 'form' | 'json';
  /** Recreate on this interval even while the secret works. Default: only when the secret is lost or refused. */
  recreateEveryMs?: number;
  /** Overlap before the previous application is deleted. Default `defaults.revokePreviousAfter`, itself default 0. */
  revokePreviousAfterMs: number;
  endpoints: CredlyEndpoints;
}

export interface DegreedConfig extends CredentialBase {
  kind: 'degreed-client-credentials';
  environment: DegreedEnvironment;
  dataCenter: DegreedDataCenter;
  /** `name:access` scopes, at least one; sent comma-separated. */
  scopes: string[];
  /** Also do a cheap read the scopes allow (`probePath`). Default false. */
  probe: boolean;
  /** With `probe`: the read under the API base — `probePath` as configured, else the one the scopes allow (probe.ts). */
  probePath?: string;
  /** The logout call's method: GET as the vendor page's example (no body), or POST with the refresh token in JSON. Default GET. */
  logoutMethod: 'GET' | 'POST';
  /** `logoutUrl` is set only when a logout path or URL is configured. */
  endpoints: DegreedEndpoints;
}

export interface LearnlinkConfig extends CredentialBase {
  kind: 'learnlink-client-credentials';
  /** Cognito-style tenant id; unset when the secret holds it. */
  tenantId?: string;
  environment: LearnlinkEnvironment;
  audience: LearnlinkAudience;
  /** Scopes allowed for the audience (LEARNLINK_SCOPES); may be empty. Default []. */
  scopes: string[];
  /** Send the credentials as HTTP Basic or as form fields. Default `basic`. */
  credentialsIn: 'basic' | 'body';
  /** Also do a cheap read of the REST API (`probePath`). Default false. */
  probe: boolean;
  /** With `probe`: the read under the API base; default `/users?page=1&perPage=1` (probe.ts). */
  probePath?: string;
  /** `tokenUrl` contains `{tenantId}`: fill it with learnlinkTokenUrl(). */
  endpoints: LearnlinkEndpoints;
}

export type CredentialConfig = CredlyTokenConfig | CredlyOAuthAppConfig | DegreedConfig | LearnlinkConfig;

interface SinkBase {
  id: string;
  /** Only these credentials alert through the sink; undefined = all. */
  credentials?: string[];
}
export interface SlackSinkConfig extends SinkBase {
  kind: 'slack';
  webhookUrl: SecretRef;
}
export interface PagerDutySinkConfig extends SinkBase {
  kind: 'pagerduty';
  routingKey: SecretRef;
  /** Default `error`. */
  severity: 'critical' | 'error' | 'warning' | 'info';
  /** Events API v2 endpoint. Default `https://events.pagerduty.com/v2/enqueue`. */
  url?: string;
}
export interface WebhookSinkConfig extends SinkBase {
  kind: 'webhook';
  /** https, or http to a loopback host. */
  url: string;
  signingSecret: SecretRef;
}
export type AlertSinkConfig = SlackSinkConfig | PagerDutySinkConfig | WebhookSinkConfig;

export interface Inventory {
  version: 1;
  credentials: CredentialConfig[];
  alerts: AlertSinkConfig[];
}

export type { SecretRef };
