/**
 * The logger shared by the server and the gateway: pino, one JSON object a line on stdout (`time`,
 * `level`, `component`, `msg`, then the context), or pino-pretty's readable form for a person at a
 * terminal. `child(name)` names a component; `bind(context)` adds fields (room, peer, session) to
 * every line the returned logger writes.
 */
import { pino, stdTimeFunctions, type DestinationStream, type Logger as Pino } from 'pino';
import { PinoPretty } from 'pino-pretty';

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export interface Logger {
  debug(message: string, context?: Record<string, unknown>): void;
  info(message: string, context?: Record<string, unknown>): void;
  warn(message: string, context?: Record<string, unknown>): void;
  error(message: string, context?: Record<string, unknown>): void;
  /** A logger for a part of this one: component `<this component>:<name>`, same context. */
  child(name: string): Logger;
  /** A logger that adds `context` to every line (on top of this one's). */
  bind(context: Record<string, unknown>): Logger;
}

export interface LoggerOptions {
  /** Default: pretty when stdout is a terminal, else json. */
  format?: LogFormat | undefined;
  /** Where lines go; default stdout. */
  destination?: DestinationStream;
}

function streamFor(format: LogFormat): DestinationStream {
  if (format === 'json') return pino.destination({ dest: 1, sync: true });
  return PinoPretty({
    sync: true,
    colorize: Boolean(process.stdout.isTTY),
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,component',
    messageFormat: '{component} {msg}',
  });
}

function wrap(p: Pino, component: string): Logger {
  const at =
    (level: 'debug' | 'info' | 'warn' | 'error') => (message: string, context?: Record<string, unknown>) => {
      if (!p.isLevelEnabled(level)) return;
      p[level]({ component, ...context }, message);
    };
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (name) => wrap(p, `${component}:${name}`),
    bind: (context) => wrap(p.child(context), component),
  };
}

export function createLogger(name: string, level: LogLevel = 'info', options: LoggerOptions = {}): Logger {
  const format = options.format ?? (process.stdout.isTTY ? 'pretty' : 'json');
  const root = pino(
    {
      level,
      base: { pid: process.pid },
      timestamp: stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination ?? streamFor(format),
  );
  return wrap(root, name);
}
