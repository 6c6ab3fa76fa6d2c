export { LogSink, MAX_EVENT_BYTES } from './log-sink.js';
export { splitLines } from './line-splitter.js';
export { startLine, endLine, reportLine, timeoutLine } from './platform-lines.js';
export type { ReportFigures } from './platform-lines.js';
export { LogQueryService } from './log-query.js';
export type { DescribeLogGroupsInput, DescribeLogStreamsInput, GetLogEventsInput, FilterLogEventsInput } from './log-query.js';
export { InvalidParameterException } from './log-errors.js';
export { parseFilterPattern } from './filter-pattern.js';
export type { FilterPattern } from './filter-pattern.js';
