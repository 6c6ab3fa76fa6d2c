import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { coverPlan } from '../src/sandbox/process/isolation.js';

test('the process sandbox hides the data directory from its topmost closed ancestor and brings back only what the runtime needs', () => {
  const root = mkdtempSync(join(tmpdir(), 'kindling-cover-'));
  try {
    chmodSync(root, 0o755);
    // <root>/home (0700, like /root) holds the data directory and the runtime clients.
    const home = join(root, 'home');
    const data = join(home, 'app', '.kindling');
    const code = join(data, 'code', 'abc');
    const runtimes = join(home, 'app', 'dist', 'src', 'runtimes');
    const open = join(root, 'usr', 'bin');
    for (const dir of [code, runtimes, open]) mkdirSync(dir, { recursive: true });
    chmodSync(home, 0o700);
    assert.deepEqual(coverPlan(data, [code, runtimes, open, join(code, 'nested')]), [{ cover: home, keep: [code, runtimes] }]);

    // With every ancestor open, the data directory itself is covered, and the rest stays as it is.
    chmodSync(home, 0o755);
    assert.deepEqual(coverPlan(data, [code, runtimes, open]), [{ cover: data, keep: [code] }]);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
