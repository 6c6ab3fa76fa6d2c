import { functionArn, lambdaTimestamp, type Partition } from '../shared/index.js';
import type { FunctionRecord } from '../store/index.js';
import { imageConfigResponse } from './image-function.js';

/** A stored function as Lambda's FunctionConfiguration shape (AWS SDK model). */
export function toConfiguration(where: Partition, record: FunctionRecord): Record<string, unknown> {
  const version = record.version ?? '$LATEST';
  return {
    FunctionName: record.name,
    // A published version's ARN is qualified with its number; $LATEST's is not.
    FunctionArn: version === '$LATEST' ? functionArn(where, record.name) : functionArn(where, record.name, version),
    // Lambda leaves Runtime and Handler out for PackageType Image.
    ...(record.packageType === 'Image' ? {} : { Runtime: record.runtime }),
    Role: record.role,
    ...(record.packageType === 'Image' ? {} : { Handler: record.handler }),
    CodeSize: record.codeSize,
    Description: record.description,
    Timeout: record.timeout,
    MemorySize: record.memorySize,
    LastModified: lambdaTimestamp(record.lastModified),
    CodeSha256: record.codeSha256,
    Version: version,
    Environment: { Variables: record.environment },
    TracingConfig: { Mode: 'PassThrough' },
    RevisionId: record.revisionId,
    Layers: (record.layers ?? []).map((layer) => ({ Arn: layer.arn, CodeSize: layer.codeSize })),
    ...(record.deadLetterTarget ? { DeadLetterConfig: { TargetArn: record.deadLetterTarget } } : {}),
    State: record.state,
    ...(record.stateReason ? { StateReason: record.stateReason } : {}),
    ...(record.stateReasonCode ? { StateReasonCode: record.stateReasonCode } : {}),
    LastUpdateStatus: record.lastUpdateStatus,
    ...(record.lastUpdateStatusReason ? { LastUpdateStatusReason: record.lastUpdateStatusReason } : {}),
    ...(record.lastUpdateStatusReasonCode ? { LastUpdateStatusReasonCode: record.lastUpdateStatusReasonCode } : {}),
    PackageType: record.packageType,
    ...imageConfigResponse(record),
    Architectures: record.architectures,
    EphemeralStorage: { Size: record.ephemeralStorage },
    SnapStart: { ApplyOn: 'None', OptimizationStatus: 'Off' },
    LoggingConfig: { LogFormat: 'Text', LogGroup: `/aws/lambda/${record.name}` },
  };
}
