import { bareName, functionArn, lambdaTimestamp, type Partition } from '../shared/index.js';
import type { FunctionRecord } from '../store/index.js';
import { imageConfigResponse } from './image-function.js';
import { loggingConfigShape } from './logging-config.js';
import { runtimeVersionArn } from './runtimes.js';

/** How an answer names and trims a function (evidence: LocalStack's AWS-validated test_lambda_api snapshots). */
export interface ShapeOptions {
  /**
   * The qualifier the caller named (GetFunction on an alias, `Qualifier=$LATEST`, ...): Lambda's
   * FunctionArn then carries it. Without one, $LATEST's ARN is unqualified and a version's carries
   * its number.
   */
  readonly arnQualifier?: string;
  /**
   * ListFunctions / ListVersionsByFunction entries: Lambda leaves out State, the LastUpdateStatus
   * fields and RuntimeVersionConfig there.
   */
  readonly listing?: boolean;
  /**
   * Answer as Lambda does for a version UpdateFunctionCode publishes (`Publish: true`): still being
   * created, so Pending with the creating reason and no LastUpdateStatus (test_publish_with_update).
   */
  readonly creating?: boolean;
}

/** A stored function as Lambda's FunctionConfiguration shape (AWS SDK model), with the fields AWS sends. */
export function toConfiguration(where: Partition, record: FunctionRecord, options: ShapeOptions = {}): Record<string, unknown> {
  const version = record.version ?? '$LATEST';
  const zip = record.packageType !== 'Image';
  const arnQualifier = options.arnQualifier ?? (version === '$LATEST' ? undefined : version);
  const layers = record.layers ?? [];
  return {
    FunctionName: bareName(record.name),
    FunctionArn: functionArn(where, record.name, arnQualifier),
    // Lambda leaves Runtime and Handler out for PackageType Image.
    ...(zip ? { Runtime: record.runtime } : {}),
    Role: record.role,
    ...(zip ? { Handler: record.handler } : {}),
    CodeSize: record.codeSize,
    Description: record.description,
    Timeout: record.timeout,
    MemorySize: record.memorySize,
    LastModified: lambdaTimestamp(record.lastModified),
    CodeSha256: record.codeSha256,
    Version: version,
    // Lambda sends Environment once it was given (even empty), and leaves it out otherwise.
    ...(record.environmentGiven || Object.keys(record.environment).length > 0 ? { Environment: { Variables: record.environment } } : {}),
    TracingConfig: { Mode: 'PassThrough' },
    RevisionId: record.revisionId,
    ...(layers.length > 0 ? { Layers: layers.map((layer) => ({ Arn: layer.arn, CodeSize: layer.codeSize })) } : {}),
    ...(record.deadLetterTarget ? { DeadLetterConfig: { TargetArn: record.deadLetterTarget } } : {}),
    ...(options.listing ? {} : lifecycle(options.creating ? { ...record, ...CREATING } : record)),
    PackageType: record.packageType,
    ...imageConfigResponse(record),
    Architectures: record.architectures,
    EphemeralStorage: { Size: record.ephemeralStorage },
    SnapStart: { ApplyOn: 'None', OptimizationStatus: 'Off' },
    ...(zip && !options.listing ? { RuntimeVersionConfig: { RuntimeVersionArn: runtimeVersionArn(where.region, record.runtime) } } : {}),
    LoggingConfig: loggingConfigShape(bareName(record.name), record.loggingConfig),
  };
}

const CREATING = { state: 'Pending', stateReason: 'The function is being created.', stateReasonCode: 'Creating' } as const;

/**
 * State and LastUpdateStatus as Lambda reports them: a function being created (or a version being
 * published with UpdateFunctionCode's Publish) is Pending with no LastUpdateStatus yet.
 */
function lifecycle(record: FunctionRecord): Record<string, unknown> {
  const pending = record.state === 'Pending';
  return {
    State: record.state,
    ...(record.stateReason ? { StateReason: record.stateReason } : {}),
    ...(record.stateReasonCode ? { StateReasonCode: record.stateReasonCode } : {}),
    ...(pending ? {} : { LastUpdateStatus: record.lastUpdateStatus }),
    ...(!pending && record.lastUpdateStatusReason ? { LastUpdateStatusReason: record.lastUpdateStatusReason } : {}),
    ...(!pending && record.lastUpdateStatusReasonCode ? { LastUpdateStatusReasonCode: record.lastUpdateStatusReasonCode } : {}),
  };
}
