/**
 * A small leveled logger shared by the server and the gateway. One line per event:
 * `<iso time> <level> <name> <message> <json context>`; LOG_LEVEL picks the threshold.
 */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Logger {
  debug(message: string, context?: Record<string, unknown>): void;
  info(message: string, context?: Record<string, unknown>): void;
  warn(message: string, context?: Record<string, unknown>): void;
  error(message: string, context?: Record<string, unknown>): void;
  child(name: string): Logger;
}

export function parseLogLevel(value: string | undefined, fallback: LogLevel = 'info'): LogLevel {
  if (value === undefined || value === '') return fallback;
  if ((LOG_LEVELS as readonly string[]).includes(value)) return value as LogLevel;
  throw new Error(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}; got "${value}"`);
}

export function createLogger(name: string, level: LogLevel = 'info'): Logger {
  const threshold = LOG_LEVELS.indexOf(level);
  const write = (lvl: Exclude<LogLevel, 'silent'>, message: string, context?: object) => {
    if (LOG_LEVELS.indexOf(lvl) < threshold) return;
    const ctx = context && Object.keys(context).length > 0 ? ` ${JSON.stringify(context)}` : '';
    const line = `${new Date().toISOString()} ${lvl.padEnd(5)} ${name} ${message}${ctx}\n`;
    (lvl === 'error' || lvl === 'warn' ? process.stderr : process.stdout).write(line);
  };
  return {
    debug: (m, c) => write('debug', m, c),
    info: (m, c) => write('info', m, c),
    warn: (m, c) => write('warn', m, c),
    error: (m, c) => write('error', m, c),
    child: (sub) => createLogger(`${name}:${sub}`, level),
  };
}
