import { ResourceConflictException } from '../shared/index.js';
import type { SandboxDriver } from './sandbox.js';

/** The tag a function sets to ask for another sandbox driver than the server's default. */
export const SANDBOX_TAG = 'kindling:sandbox';
/**
 * The tag that once gave a function the host's network (`egress`). No sandbox has a route to the
 * host any more; the control plane refuses the tag until an isolated outbound route exists.
 */
export const NETWORK_TAG = 'kindling:network';

/**
 * The drivers that run on this machine, the ones the operator allows functions to ask for, and
 * which one a function gets. Isolation is the operator's choice, never the caller's.
 */
export class SandboxSelection {
  readonly #drivers: ReadonlyMap<string, SandboxDriver>;
  readonly defaultDriver: SandboxDriver;

  /** `drivers`: usable here and allowed (the default among them). */
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

  /**
   * The driver of a function with these tags. A tag naming a driver the server does not allow (the
   * operator narrowed --allow-sandbox after the function was created) is refused, never replaced
   * by another driver behind the owner's back.
   */
  forTags(tags: Readonly<Record<string, string>>): SandboxDriver {
    const asked = tags[SANDBOX_TAG];
    if (asked === undefined) return this.defaultDriver;
    const driver = this.#drivers.get(asked);
    if (!driver) {
      throw new ResourceConflictException(
        `The function asks for the sandbox driver '${asked}' (tag ${SANDBOX_TAG}), which this server does not allow; it allows ${this.names.join(', ')}. Change or remove the tag.`,
      );
    }
    return driver;
  }
}
