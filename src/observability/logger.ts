// Structured logs (pino), one JSON line per event. Level from config or STREAMHOUSE_LOG_LEVEL.
import { pino } from 'pino';

export type Logger = pino.Logger;

export function createLogger(level = process.env.STREAMHOUSE_LOG_LEVEL ?? 'info'): Logger {
  return pino({ level, base: { service: 'streamhouse' } });
}

/** A logger that drops everything: tests and library use. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
