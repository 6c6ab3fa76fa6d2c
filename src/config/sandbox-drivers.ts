/**
 * The sandbox drivers Kindling has, weakest isolation first: the one list every room uses (the
 * config's flags, the driver selection, the control plane's tag check).
 */
export const SANDBOX_DRIVERS = ['process', 'namespace', 'microvm'] as const;

export type SandboxDriverName = (typeof SANDBOX_DRIVERS)[number];

export function isSandboxDriver(name: string): name is SandboxDriverName {
  return (SANDBOX_DRIVERS as readonly string[]).includes(name);
}

/** The drivers at least as strong as `name`: what the operator allows by default (docs/security.md). */
export function driversAtLeast(name: SandboxDriverName): SandboxDriverName[] {
  return SANDBOX_DRIVERS.slice(SANDBOX_DRIVERS.indexOf(name));
}
