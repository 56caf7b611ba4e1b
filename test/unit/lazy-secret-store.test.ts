import { describe, expect, it } from 'vitest';
import { lazySecretStore } from '../../src/secrets/lazy-store.ts';
import type { SecretStore } from '../../src/secrets/store-types.ts';

/** A store that answers every method with its name and arguments, as a real one would answer its call. */
function echoStore(): SecretStore {
  const echo =
    (name: string) =>
    (...args: unknown[]) =>
      Promise.resolve({ name, args });
  const names = [
    'readCurrent',
    'readPending',
    'readStage',
    'unlabel',
    'readVersion',
    'versionCreatedAt',
    'putPending',
    'promote',
    'listVersions',
    'putCurrent',
    'create',
  ];
  return Object.fromEntries(names.map((n) => [n, echo(n)])) as unknown as SecretStore;
}

describe('a secret store made on first use', () => {
  it('makes nothing until the first call, then makes the store once and hands every method its arguments', async () => {
    let made = 0;
    const store = lazySecretStore(() => {
      made += 1;
      return Promise.resolve(echoStore());
    });
    expect(made).toBe(0);
    const [a, b] = await Promise.all([store.readCurrent('app/one'), store.putPending('app/one', 'rotation-1', '{"v":1}')]);
    expect(a).toEqual({ name: 'readCurrent', args: ['app/one'] });
    expect(b).toEqual({ name: 'putPending', args: ['app/one', 'rotation-1', '{"v":1}'] });
    expect(await store.listVersions('app/two', { includeDeprecated: true })).toEqual({ name: 'listVersions', args: ['app/two', { includeDeprecated: true }] });
    expect(Object.keys(store).sort()).toEqual(Object.keys(echoStore()).sort());
    expect(made).toBe(1);
  });

  it('rejects the calls while the store cannot be made, and tries again at the next call', async () => {
    let attempts = 0;
    const store = lazySecretStore(() => {
      attempts += 1;
      return attempts === 1 ? Promise.reject(new Error('the SDK could not be loaded')) : Promise.resolve(echoStore());
    });
    await expect(store.readCurrent('app/one')).rejects.toThrow('the SDK could not be loaded');
    await expect(store.readCurrent('app/one')).resolves.toEqual({ name: 'readCurrent', args: ['app/one'] });
    expect(attempts).toBe(2);
  });
});
