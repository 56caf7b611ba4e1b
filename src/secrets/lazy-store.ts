import type { SecretStore } from './store-types.ts';

/** Every method of a SecretStore, by name: the compiler refuses this list once one is missing. */
const METHODS = {
  readCurrent: true,
  readPending: true,
  readStage: true,
  unlabel: true,
  readVersion: true,
  versionCreatedAt: true,
  putPending: true,
  promote: true,
  listVersions: true,
  putCurrent: true,
  create: true,
} as const satisfies Record<keyof SecretStore, true>;

/**
 * A SecretStore made on its first call by `load`: the worker loads the AWS SDK (a large library)
 * only once it first reads or writes a secret, not at start, where an idle worker never needs it.
 * A `load` that fails is tried again at the next call.
 */
export function lazySecretStore(load: () => Promise<SecretStore>): SecretStore {
  let store: Promise<SecretStore> | undefined;
  const real = () =>
    (store ??= load().catch((error: unknown) => {
      store = undefined;
      throw error;
    }));
  return Object.fromEntries(
    Object.keys(METHODS).map((name) => [
      name,
      async (...args: unknown[]) => {
        const target = await real();
        return (target[name as keyof SecretStore] as (...a: unknown[]) => Promise<unknown>)(...args);
      },
    ]),
  ) as unknown as SecretStore;
}
