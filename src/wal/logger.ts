// The slice of pino's API the WAL logs through; a pino logger (or a child of one) fits as is.

export interface WalLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export const silentLogger: WalLogger = {
  info() {},
  warn() {},
  error() {},
};
