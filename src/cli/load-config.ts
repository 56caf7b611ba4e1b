import { ConfigError, loadEnv, loadInventory, type Env, type Inventory } from '../config/index.ts';
import { dashboardPackagesProblem, missingDashboardPackages } from '../http/dashboard-packages.ts';
import { UsageError } from './exit-codes.ts';

/**
 * Loads the environment and the inventory once. Every problem surfaces as a ConfigError, which the
 * CLI prints (one line per problem, by its path) before exiting 2 — before anything is touched.
 */
export function loadConfiguration(options: { configPath?: string | undefined; env?: NodeJS.ProcessEnv } = {}): {
  env: Env;
  inventory: Inventory;
} {
  const env = loadEnv(options.env ?? process.env);
  const dashboard = env.dashboard && dashboardPackagesProblem(missingDashboardPackages());
  if (dashboard) throw new ConfigError('environment', [{ path: 'ROTATOR_DASHBOARD', message: dashboard }]);
  const path = options.configPath ?? env.configPath;
  if (!path) throw new UsageError('no inventory: set ROTATOR_CONFIG or pass --config <path>');
  return { env, inventory: loadInventory(path) };
}

export { ConfigError };
