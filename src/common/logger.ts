import pino, { type Logger } from 'pino';

export type { Logger };

/** The process logger: JSON lines on stdout, one field set per request added by child loggers. */
export function createLogger(level: string): Logger {
  return pino({ level, base: { pid: process.pid } });
}
