import { ResourceConflictException } from '../shared/index.js';
import type { Sandbox, SandboxDriver, SandboxSpec } from './sandbox.js';

/** The tag a function sets to ask for another sandbox driver than the server's default. */
export const SANDBOX_TAG = 'kindling:sandbox';
/**
 * The tag that takes a function's outbound network away: `none` (the only value; unset, the
 * server's --egress). No value ever gives a route to the host (docs/network.md).
 */
export const NETWORK_TAG = 'kindling:network';
export const NETWORK_TAG_VALUES = ['none'] as const;

/**
 * The drivers that run on this machine, the ones the operator allows functions to ask for, and
 * which one a function gets. Isolation is the operator's choice, never the caller's.
 */
export class SandboxSelection {
  readonly #drivers: ReadonlyMap<string, SandboxDriver>;
  readonly #offline = new Map<SandboxDriver, SandboxDriver>();
  readonly defaultDriver: SandboxDriver;
  readonly #close: () => Promise<void>;
  #closed: Promise<void> | undefined;

  /** `drivers`: usable here and allowed (the default among them); `close` releases what they share (the egress rules). */
  constructor(drivers: readonly SandboxDriver[], defaultName: string, close: () => Promise<void> = () => Promise.resolve()) {
    this.#close = close;
    this.#drivers = new Map(drivers.map((driver) => [driver.name, driver]));
    const chosen = this.#drivers.get(defaultName);
    if (!chosen) throw new Error(`sandbox driver '${defaultName}' is not available here`);
    this.defaultDriver = chosen;
  }

  /** Removes the host-wide state the drivers share (egress-network.ts), once their sandboxes are gone. Idempotent. */
  close(): Promise<void> {
    this.#closed ??= this.#close();
    return this.#closed;
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
    const driver = this.#driverFor(tags);
    if (tags[NETWORK_TAG] !== 'none' || driver.network !== 'egress') return driver;
    let offline = this.#offline.get(driver);
    if (!offline) this.#offline.set(driver, (offline = new OfflineDriver(driver)));
    return offline;
  }

  #driverFor(tags: Readonly<Record<string, string>>): SandboxDriver {
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

/** A driver's sandboxes without their route out (`kindling:network=none`): a loopback only. */
class OfflineDriver implements SandboxDriver {
  readonly network = 'none' as const;
  readonly #inner: SandboxDriver;

  constructor(inner: SandboxDriver) {
    this.#inner = inner;
  }

  get name(): string {
    return this.#inner.name;
  }

  get pathView() {
    return this.#inner.pathView;
  }

  get runsImages() {
    return this.#inner.runsImages;
  }

  get runsPrestarted() {
    return this.#inner.runsPrestarted;
  }

  get initTimeoutMs() {
    return this.#inner.initTimeoutMs;
  }

  unavailable(): Promise<string | undefined> {
    return this.#inner.unavailable();
  }

  start(spec: SandboxSpec): Promise<Sandbox> {
    return this.#inner.start({ ...spec, network: 'none' });
  }
}
