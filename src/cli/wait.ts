import {
  waitForFunctionActiveV2,
  waitForFunctionUpdatedV2,
  type FunctionConfiguration,
  type GetFunctionCommandOutput,
  type LambdaClient,
} from '@aws-sdk/client-lambda';

/** How long `deploy` waits for a function to settle: the AWS CLI's limit for these waiters. */
const MAX_WAIT_SECONDS = 300;

/** The function did not settle: `name` is Lambda's reason code (StateReasonCode, ...) or TimeoutError. */
export class FunctionNotReady extends Error {}

/**
 * Waits with the SDK's waiter until a new function is Active, or the latest update Successful.
 * The `waitFor*` form hands back the outcome as a value, so a Failed state is reported with
 * Lambda's reason rather than the waiter's JSON dump.
 */
export async function waitUntilSettled(lambda: LambdaClient, name: string, until: 'Active' | 'Updated'): Promise<void> {
  const wait = until === 'Active' ? waitForFunctionActiveV2 : waitForFunctionUpdatedV2;
  const result = await wait({ client: lambda, maxWaitTime: MAX_WAIT_SECONDS }, { FunctionName: name });
  if (result.state === 'SUCCESS') return;
  const configuration = (result.reason as GetFunctionCommandOutput | undefined)?.Configuration;
  throw notReady(name, until, result.state, configuration);
}

function notReady(name: string, until: 'Active' | 'Updated', state: string, config: FunctionConfiguration | undefined): FunctionNotReady {
  if (state === 'FAILURE' && config) {
    const [code, reason] =
      until === 'Active'
        ? [config.StateReasonCode, config.StateReason]
        : [config.LastUpdateStatusReasonCode, config.LastUpdateStatusReason];
    const error = new FunctionNotReady(`${name}: ${reason ?? (until === 'Active' ? 'function state is Failed' : 'update Failed')}`);
    error.name = code ?? 'FunctionFailed';
    return error;
  }
  const error = new FunctionNotReady(
    `${name} did not become ${until === 'Active' ? 'Active' : 'Successful'} within ${MAX_WAIT_SECONDS} s (waiter ${state})`,
  );
  error.name = 'TimeoutError';
  return error;
}
