export { LogSink, MAX_EVENT_BYTES } from './log-sink.js';
export { splitLines } from './line-splitter.js';
export { startLine, endLine, reportLine, timeoutLine } from './platform-lines.js';
export type { ReportFigures } from './platform-lines.js';
