import { bareName } from '../shared/index.js';
import type { FunctionRecord } from '../store/index.js';

/** What the reserved variables depend on besides the function. */
export interface VariableContext {
  readonly region: string;
  readonly version: string;
  readonly logGroup: string;
  readonly logStream: string;
  readonly initializationType: 'on-demand' | 'provisioned-concurrency';
  /** Temporary credentials for the function's execution role (absent when none could be issued). */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string; readonly sessionToken: string };
}

/** The variables Lambda sets for every runtime (configuration-envvars), whatever the package type. */
export function lambdaVariables(fn: FunctionRecord, ctx: VariableContext): Record<string, string> {
  return {
    AWS_REGION: ctx.region,
    AWS_DEFAULT_REGION: ctx.region,
    AWS_LAMBDA_FUNCTION_NAME: bareName(fn.name),
    AWS_LAMBDA_FUNCTION_VERSION: ctx.version,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memorySize),
    AWS_LAMBDA_LOG_GROUP_NAME: ctx.logGroup,
    AWS_LAMBDA_LOG_STREAM_NAME: ctx.logStream,
    AWS_LAMBDA_INITIALIZATION_TYPE: ctx.initializationType,
    // The execution role's credentials, which the AWS SDKs' default chain reads (as on Lambda).
    ...(ctx.credentials
      ? {
          AWS_ACCESS_KEY_ID: ctx.credentials.accessKeyId,
          AWS_SECRET_ACCESS_KEY: ctx.credentials.secretAccessKey,
          AWS_SESSION_TOKEN: ctx.credentials.sessionToken,
        }
      : {}),
  };
}
