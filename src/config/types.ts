import type { z } from 'zod';
import type { ConfigProblem } from './errors.ts';
import type { SecretRef } from './fields.ts';
import type { alertSinkSchema, eventReceiverSchema, InventoryDefaults, RadarSettings } from './inventory.schema.ts';

/**
 * Fields every credential has once defaults are applied. A kind's full configuration is the output
 * of its inventory schema (src/kinds/<provider>/…/schema.ts), never written again by hand.
 */
export interface CredentialBase {
  /** Unique; safe in job ids and Redis keys (no ":"). */
  id: string;
  /** The kind's name, e.g. the registry key of src/kinds/registry.ts. */
  kind: string;
  /** Secrets Manager name or ARN; unique across the inventory. */
  secretId: string;
  /** Cron (5 fields, or 6 with seconds first), UTC. Default `defaults.schedule`, itself default `0 3 * * *`. */
  schedule: string;
}

/** A credential entry as written, before its schema read it: for the rules across entries. */
export type RawEntry = Record<string, unknown>;

/** What the configuration needs of a credential kind: its schema, and its rules across entries. */
export interface InventoryKind<C extends CredentialBase = CredentialBase> {
  readonly kind: C['kind'];
  /** The inventory entry's schema, given the inventory's defaults; its output is the kind's configuration. */
  entry(defaults: InventoryDefaults): z.ZodType<C>;
  /** Problems of entry `index` that depend on other entries or on several of its fields together. */
  crossCheck?(entry: RawEntry, index: number, byId: ReadonlyMap<string, RawEntry>): ConfigProblem[];
}

export type AlertSinkConfig = z.output<typeof alertSinkSchema>;
export type SlackSinkConfig = Extract<AlertSinkConfig, { kind: 'slack' }>;
export type PagerDutySinkConfig = Extract<AlertSinkConfig, { kind: 'pagerduty' }>;
export type WebhookSinkConfig = Extract<AlertSinkConfig, { kind: 'webhook' }>;
export type EventReceiverConfig = z.output<typeof eventReceiverSchema>;

export interface Inventory<C extends CredentialBase = CredentialBase> {
  version: 1;
  credentials: C[];
  alerts: AlertSinkConfig[];
  /** Receivers of rotation and revoke events; absent in inventories built by hand (tests): none. */
  events?: EventReceiverConfig[];
  /** The expiry radar's settings; absent in inventories built by hand (tests): the defaults apply (radarSettings). */
  radar?: RadarSettings;
}

export type { InventoryDefaults, RadarSettings, SecretRef };
