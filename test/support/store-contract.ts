import { afterEach, describe } from 'node:test';
import type { Store } from '../../src/store/index.js';
import { accountContract } from './store-contract/accounts.js';
import { blobContract } from './store-contract/blobs.js';
import type { ContractContext, FreshDatabase } from './store-contract/context.js';
import { eventContract } from './store-contract/events.js';
import { fleetContract } from './store-contract/fleet.js';
import { functionContract } from './store-contract/functions.js';
import { identityContract } from './store-contract/identity.js';
import { logContract } from './store-contract/logs.js';
import { keyContract } from './store-contract/keys.js';
import { policyContract } from './store-contract/policies.js';
import { tableContract } from './store-contract/tables.js';
import { urlContract } from './store-contract/urls.js';

export type { FreshDatabase } from './store-contract/context.js';

export interface StoreContractOptions {
  /** Why the store cannot run here (the suite is skipped with this reason), or false. */
  readonly skip: string | false;
  /**
   * The store is shared by several processes (PostgreSQL): two instances on one database see each
   * other's changes, lease disjoint events, and may open (and migrate) a fresh database at once.
   */
  readonly shared: boolean;
}

/**
 * The contract every store passes (STYLE.md 5), behaviour by behaviour against a real database:
 * `fresh` makes an empty database for one test; the suite opens stores on it (as many as a test
 * needs) and closes them and the database after the test.
 */
export function storeContract(name: string, fresh: () => Promise<FreshDatabase>, options: StoreContractOptions): void {
  describe(`store contract: ${name}`, { skip: options.skip }, () => {
    let opened: Store[] = [];
    let databases: FreshDatabase[] = [];

    const context: ContractContext = {
      shared: options.shared,
      async database() {
        const db = await fresh();
        databases.push(db);
        return {
          open: async () => {
            const store = await db.open();
            opened.push(store);
            return store;
          },
        };
      },
      async store() {
        return (await context.database()).open();
      },
    };

    afterEach(async () => {
      const stores = opened;
      const dbs = databases;
      opened = [];
      databases = [];
      await Promise.all(stores.map((store) => store.close()));
      for (const db of dbs) await db.cleanup();
    });

    functionContract(context);
    identityContract(context);
    tableContract(context);
    eventContract(context);
    logContract(context);
    blobContract(context);
    fleetContract(context);
    keyContract(context);
    policyContract(context);
    accountContract(context);
    urlContract(context);
  });
}
