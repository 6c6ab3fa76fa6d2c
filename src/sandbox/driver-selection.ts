import type { SandboxDriver } from './sandbox.js';

/** The tag a function sets to ask for another sandbox driver than the server's default. */
export const SANDBOX_TAG = 'kindling:sandbox';
/**
 * The tag that once gave a function the host's network (`egress`). No sandbox has a route to the
 * host any more; the control plane refuses the tag until an isolated outbound route exists.
 */
export const NETWORK_TAG = 'kindling:network';

/** The drivers that run on this machine, and which one a function gets. */
export class SandboxSelection {
  readonly #drivers: ReadonlyMap<string, SandboxDriver>;
  readonly defaultDriver: SandboxDriver;

  constructor(drivers: readonly SandboxDriver[], defaultName: string) {
    this.#drivers = new Map(drivers.map((driver) => [driver.name, driver]));
    const chosen = this.#drivers.get(defaultName);
    if (!chosen) throw new Error(`sandbox driver '${defaultName}' is not available here`);
    this.defaultDriver = chosen;
  }

  /** The names a function may ask for with its `kindling:sandbox` tag. */
  get names(): string[] {
    return [...this.#drivers.keys()];
  }

  forTags(tags: Readonly<Record<string, string>>): SandboxDriver {
    const asked = tags[SANDBOX_TAG];
    return (asked === undefined ? undefined : this.#drivers.get(asked)) ?? this.defaultDriver;
  }
}
