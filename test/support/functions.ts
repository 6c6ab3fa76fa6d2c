import type { CreateFunctionCommandInput } from '@aws-sdk/client-lambda';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { zipFiles } from '../../src/code/index.js';
import { ROLE } from './kindling.js';

/** A Node.js function's CreateFunction input: `index.js` holds `handler` unless `files` says otherwise. */
export async function nodeFunction(
  name: string,
  handler = 'exports.handler = async (event) => ({ ok: true, event });\n',
  extra: Partial<CreateFunctionCommandInput> = {},
): Promise<CreateFunctionCommandInput> {
  return {
    FunctionName: name,
    Runtime: 'nodejs20.x',
    Handler: 'index.handler',
    Role: ROLE,
    Code: { ZipFile: await zipFiles({ 'index.js': handler }) },
    ...extra,
  };
}

/** Asserts an AWS SDK call fails with Lambda's error name and HTTP status (and message). */
export async function rejectsWith(call: Promise<unknown>, name: string, status: number, message?: RegExp): Promise<void> {
  await assert.rejects(call, (err: Error & { $metadata?: { httpStatusCode?: number } }) => {
    assert.equal(err.name, name, `${err.name}: ${err.message}`);
    assert.equal(err.$metadata?.httpStatusCode, status);
    if (message) assert.match(err.message, message);
    return true;
  });
}

/** Runs a command as an unprivileged local user (nobody), the way an attacker on the host would. */
export function asNobody(command: string, args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--', command, ...args], { encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}
