/**
 * The BullMQ dashboard's packages are optionalDependencies: bull-board and express bring 68
 * packages that a worker never loads while the dashboard is off (the default), so the image leaves
 * them out unless built with them (docs/decisions.md). Asking for the dashboard without them is a
 * configuration error found at start, not a crash when the first request comes.
 */
export const DASHBOARD_PACKAGES = ['@bull-board/api', '@bull-board/express'] as const;

/** The dashboard's packages this installation cannot resolve. */
export function missingDashboardPackages(resolve: (specifier: string) => string = (s) => import.meta.resolve(s)): string[] {
  return DASHBOARD_PACKAGES.filter((name) => {
    try {
      resolve(name);
      return false;
    } catch {
      return true;
    }
  });
}

/** The problem to report when ROTATOR_DASHBOARD=on and packages are missing, else undefined. */
export function dashboardPackagesProblem(missing: string[]): string | undefined {
  if (missing.length === 0) return undefined;
  return (
    `is on, but the dashboard's packages are not installed (${missing.join(', ')}): they are optional and this installation ` +
    `left them out. Build the image with --build-arg DASHBOARD_PACKAGES=include, or install without --omit=optional`
  );
}
