import pino from 'pino';
import { logFields } from './context.js';

/**
 * JSON logs on stdout. Secrets are redacted wherever they might appear in a logged object; a line
 * logged while handling a request carries its request id and trace id (context.ts).
 */
export function createLogger(service: string, level: string, destination?: pino.DestinationStream) {
  return pino(
    {
      name: service,
      level,
      base: { service },
      timestamp: pino.stdTimeFunctions.isoTime,
      mixin: logFields,
      redact: {
        paths: [
          'password',
          '*.password',
          'passwordHash',
          '*.passwordHash',
          'token',
          '*.token',
          'accessToken',
          '*.accessToken',
          'authorization',
          '*.authorization',
        ],
        censor: '[redacted]',
      },
    },
    destination,
  );
}

export type Logger = pino.Logger;
