import { programFingerprint } from '../build-info.ts';
import { ConfigError, loadEnv, type Env, type Inventory } from '../config/index.ts';
import { loadInventory, RATE_LIMIT_VARIABLES, type CredentialConfig } from '../kinds/registry.ts';
import { dashboardPackagesProblem, missingDashboardPackages } from '../http/dashboard-packages.ts';
import { UsageError } from './exit-codes.ts';

/**
 * Loads the environment and the inventory once. Every problem surfaces as a ConfigError, which the
 * CLI prints (one line per problem, by its path) before exiting 2 — before anything is touched.
 */
export function loadConfiguration(options: { configPath?: string | undefined; env?: NodeJS.ProcessEnv } = {}): {
  env: Env;
  inventory: Inventory<CredentialConfig>;
} {
  const env = loadEnv(options.env ?? process.env, { rateLimits: RATE_LIMIT_VARIABLES });
  const dashboard = env.dashboard && dashboardPackagesProblem(missingDashboardPackages());
  if (dashboard) throw new ConfigError('environment', [{ path: 'ROTATOR_DASHBOARD', message: dashboard }]);
  const path = options.configPath ?? env.configPath;
  if (!path) throw new UsageError('no inventory: set ROTATOR_CONFIG or pass --config <path>');
  // An unchanged file is read from the inventory cache (ROTATOR_CACHE_DIR): `rotator status` run again and again.
  const cache = env.cacheDir ? { dir: env.cacheDir, version: programFingerprint() } : undefined;
  return { env, inventory: loadInventory(path, { cache }) };
}

export { ConfigError };
