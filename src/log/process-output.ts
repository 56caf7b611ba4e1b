import { format } from 'node:util';
import type { Logger } from './logger.ts';

/** The longest message kept of a line a library wrote to the console. */
const MAX_MESSAGE = 500;

/** The first line of a message, cut to MAX_MESSAGE characters: a stack or a request dump stays out. */
function firstLine(text: string): string {
  const line = text.split('\n', 1)[0] ?? '';
  return line.length > MAX_MESSAGE ? `${line.slice(0, MAX_MESSAGE)}…` : line;
}

/** What a library passed to the console, as printf-style text: an Error by its class and message only. */
function describe(args: unknown[]): string {
  return firstLine(format(...args.map((a) => (a instanceof Error ? `${a.name}: ${a.message}` : a))));
}

/**
 * Makes every line the process writes one JSON log line: what libraries print with `console`
 * (BullMQ's warnings about Redis, an error it had no listener for), Node's process warnings (whose
 * default printer is removed), and an uncaught exception or unhandled rejection, logged as `fatal`
 * before the process exits 1 as Node would. Returns a function that puts the console back.
 */
export function routeProcessOutput(logger: Logger): () => void {
  const console_ = globalThis.console;
  const methods = ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const;
  const saved = Object.getOwnPropertyDescriptors(console_);
  const to =
    (level: 'debug' | 'info' | 'warn' | 'error') =>
    (...args: unknown[]) =>
      logger[level]({ source: 'console' }, describe(args));
  console_.log = to('info');
  console_.info = to('info');
  console_.debug = to('debug');
  console_.trace = to('debug');
  console_.warn = to('warn');
  console_.error = to('error');
  const warningListeners = process.listeners('warning');
  process.removeAllListeners('warning');
  const onWarning = (warning: Error) => logger.warn({ source: 'node', err: { type: warning.name, message: firstLine(warning.message) } }, 'process: warning');
  process.on('warning', onWarning);
  const fatal = (what: string) => (error: unknown) => {
    const err = error instanceof Error ? { type: error.name, message: firstLine(error.message) } : { type: typeof error, message: firstLine(String(error)) };
    logger.fatal({ err }, what);
    process.exit(1);
  };
  const onException = fatal('process: uncaught exception');
  const onRejection = fatal('process: unhandled rejection');
  process.on('uncaughtException', onException);
  process.on('unhandledRejection', onRejection);
  return () => {
    for (const method of methods) Object.defineProperty(console_, method, saved[method]);
    process.off('warning', onWarning);
    for (const listener of warningListeners) process.on('warning', listener);
    process.off('uncaughtException', onException);
    process.off('unhandledRejection', onRejection);
  };
}
