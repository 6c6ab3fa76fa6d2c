import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../src/store/index.js';
import { storeContract } from './support/store-contract.js';

storeContract(
  'sqlite',
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kindling-store-'));
    return {
      open: async () => new SqliteStore(join(dir, 'kindling.db')),
      cleanup: async () => rmSync(dir, { recursive: true, force: true }),
    };
  },
  { skip: false, shared: false },
);
