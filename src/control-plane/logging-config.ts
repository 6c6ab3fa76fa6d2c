import { InvalidParameterValueException, ValidationException } from '../shared/index.js';
import type { FunctionLoggingConfig } from '../store/index.js';

/** The AWS SDK model's enums and LogGroup constraints for LoggingConfig. */
const LOG_FORMATS = ['JSON', 'Text'];
const APPLICATION_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'];
const SYSTEM_LEVELS = ['DEBUG', 'INFO', 'WARN'];
const LOG_GROUP = /^[.\-_/#A-Za-z0-9]+$/;
const LOG_GROUP_MAX = 512;

/** Lambda's own default: plain text lines to the function's log group. */
export function defaultLogGroup(functionName: string): string {
  return `/aws/lambda/${functionName}`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function enumMember(value: unknown, member: string, allowed: readonly string[]): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || !allowed.includes(value)) {
    throw ValidationException.constraint(value, member, `Member must satisfy enum value set: [${allowed.join(', ')}]`);
  }
  return value;
}

/**
 * LoggingConfig of CreateFunction / UpdateFunctionConfiguration, merged over what the function
 * has (`current`). Lambda stores it as given: JSON fills in INFO for both log levels, Text keeps
 * none (and refuses a level given with it). Kindling's runtimes do not honour it yet; it is
 * stored and returned so that tools reading it back see what they set (docs/compatibility.md).
 */
export function validateLoggingConfig(value: unknown, functionName: string, current?: FunctionLoggingConfig): FunctionLoggingConfig | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) throw ValidationException.constraint(value, 'loggingConfig', 'Member must be a structure');
  const format = enumMember(value['LogFormat'], 'loggingConfig.logFormat', LOG_FORMATS) as FunctionLoggingConfig['logFormat'] | undefined;
  const application = enumMember(value['ApplicationLogLevel'], 'loggingConfig.applicationLogLevel', APPLICATION_LEVELS);
  const system = enumMember(value['SystemLogLevel'], 'loggingConfig.systemLogLevel', SYSTEM_LEVELS);
  const group = value['LogGroup'];
  if (group !== undefined && group !== null) {
    if (typeof group !== 'string' || group.length > LOG_GROUP_MAX) {
      throw ValidationException.constraint(group, 'loggingConfig.logGroup', `Member must have length less than or equal to ${LOG_GROUP_MAX}`);
    }
    if (!LOG_GROUP.test(group)) {
      throw ValidationException.constraint(group, 'loggingConfig.logGroup', 'Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+');
    }
  }
  const logFormat = format ?? current?.logFormat ?? 'Text';
  const logGroup = typeof group === 'string' ? group : (current?.logGroup ?? defaultLogGroup(functionName));
  if (logFormat === 'Text') {
    if (application !== undefined || system !== undefined) {
      throw new InvalidParameterValueException(
        'LogLevel is not supported when LogFormat is set to "Text". Remove LogLevel from your request or change the LogFormat to "JSON" and try again.',
      );
    }
    return { logFormat, logGroup };
  }
  return {
    logFormat,
    applicationLogLevel: application ?? current?.applicationLogLevel ?? 'INFO',
    systemLogLevel: system ?? current?.systemLogLevel ?? 'INFO',
    logGroup,
  };
}

/** The LoggingConfig shape of the AWS SDK model. */
export function loggingConfigShape(functionName: string, config: FunctionLoggingConfig | undefined): Record<string, unknown> {
  if (!config) return { LogFormat: 'Text', LogGroup: defaultLogGroup(functionName) };
  return {
    LogFormat: config.logFormat,
    ...(config.applicationLogLevel ? { ApplicationLogLevel: config.applicationLogLevel } : {}),
    ...(config.systemLogLevel ? { SystemLogLevel: config.systemLogLevel } : {}),
    LogGroup: config.logGroup,
  };
}
