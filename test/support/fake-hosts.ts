import { afterAll, afterEach, beforeAll } from 'vitest';
import { startCredlyFake, type CredlyFake, type CredlyFakeOptions } from '../fakes/credly.fake.ts';
import { startDegreedFake, type DegreedFake, type DegreedFakeOptions } from '../fakes/degreed.fake.ts';
import { startLearnlinkFake, type LearnlinkFake, type LearnlinkFakeOptions } from '../fakes/learnlink.fake.ts';
import { startAlertReceiver, type AlertReceiver } from './alert-receiver.ts';
import { startSmProxy, type SmProxy } from './sm-proxy.ts';

/**
 * The one way a suite starts the provider fakes (each on loopback ports of its own, see
 * test/fakes/README.md), with `sm: true` the fault-injecting proxy in front of the run's Secrets
 * Manager emulator, with `alerts: true` the alert receiver; and the `endpoints:` an inventory entry
 * needs to reach the fakes.
 */

export interface FakeHostOptions {
  credly?: CredlyFakeOptions;
  degreed?: DegreedFakeOptions;
  learnlink?: LearnlinkFakeOptions;
  /** The Secrets Manager proxy (sm-proxy.ts) in front of the emulator the global setup started. */
  sm?: true;
  /** The receiver playing Slack, PagerDuty and a webhook (alert-receiver.ts). */
  alerts?: true;
}

interface HostTypes {
  credly: CredlyFake;
  degreed: DegreedFake;
  learnlink: LearnlinkFake;
  sm: SmProxy;
  alerts: AlertReceiver;
}

/** The hosts `O` asks for, typed; `clear` forgets every fault and proxy rule, `close` stops them all. */
export type FakeHosts<O extends FakeHostOptions> = { [K in keyof O & keyof HostTypes]: HostTypes[K] } & {
  clear(): void;
  close(): Promise<void>;
};

export async function startFakeHosts<O extends FakeHostOptions>(options: O): Promise<FakeHosts<O>> {
  const [credly, degreed, learnlink, sm, alerts] = await Promise.all([
    options.credly ? startCredlyFake(options.credly) : undefined,
    options.degreed ? startDegreedFake(options.degreed) : undefined,
    options.learnlink ? startLearnlinkFake(options.learnlink) : undefined,
    options.sm ? startSmProxy(process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER!) : undefined,
    options.alerts ? startAlertReceiver() : undefined,
  ]);
  const fakes = [credly, degreed, learnlink].filter((f) => f !== undefined);
  const hosts = {
    ...(credly ? { credly } : {}),
    ...(degreed ? { degreed } : {}),
    ...(learnlink ? { learnlink } : {}),
    ...(sm ? { sm } : {}),
    ...(alerts ? { alerts } : {}),
    clear() {
      for (const fake of fakes) fake.faults.clear();
      sm?.clear();
    },
    async close() {
      await Promise.all([...fakes.map((f) => f.close()), sm?.close(), alerts?.close()]);
    },
  };
  return hosts as unknown as FakeHosts<O>;
}

/**
 * The hosts of a test file (or a describe block): started before its first test, their faults and
 * proxy rules cleared after each test unless `clearAfterEach` is false, stopped after the last. The
 * returned object is filled in by the `beforeAll` hook, so read its fields inside tests and hooks.
 */
export function useFakeHosts<O extends FakeHostOptions>(options: O, { clearAfterEach = true } = {}): FakeHosts<O> {
  const hosts = {} as FakeHosts<O>;
  beforeAll(async () => {
    Object.assign(hosts, await startFakeHosts(options));
  });
  if (clearAfterEach) afterEach(() => hosts.clear());
  afterAll(async () => {
    // A failed start leaves nothing to close.
    if ('close' in hosts) await hosts.close();
  });
  return hosts;
}

/** The endpoint overrides of an inventory entry served by one of the fakes. */
export type Endpoints = Record<string, string>;

/** A Credly entry: the API host; with `oauth`, also the client_credentials token endpoint (an OAuth application). */
export function credlyEndpoints(fake: CredlyFake, { oauth = false } = {}): Endpoints {
  return { apiBase: fake.apiBase, ...(oauth ? { tokenUrl: fake.tokenUrl } : {}) };
}

/** A Degreed entry; `logout` adds the fake's logout URL (when it has one), else the product's default path is used. */
export function degreedEndpoints(fake: DegreedFake, { logout = false } = {}): Endpoints {
  return { tokenUrl: fake.tokenUrl, apiBase: fake.apiBase, ...(logout && fake.logoutUrl ? { logoutUrl: fake.logoutUrl } : {}) };
}

/** A Learn.link entry of `audience` (the token URL template differs by family). */
export function learnlinkEndpoints(fake: LearnlinkFake, audience: 'api' | 'webhooks' = 'api'): Endpoints {
  return { tokenUrl: fake.tokenUrl[audience], apiBase: fake.apiBase };
}

/** `endpoints: { apiBase: "…", … }`, the flow-style line an inventory entry carries. */
export function endpointsYaml(endpoints: Endpoints): string {
  return `endpoints: { ${Object.entries(endpoints)
    .map(([k, v]) => `${k}: "${v}"`)
    .join(', ')} }`;
}
