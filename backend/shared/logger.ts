import pino from 'pino';

/**
 * JSON logs on stdout. Secrets are redacted wherever they might appear in a logged object. A line
 * about a call names it with `logFieldsOf(context)` (context.ts).
 */
export function createLogger(service: string, level: string, destination?: pino.DestinationStream) {
  return pino(
    {
      name: service,
      level,
      base: { service },
      timestamp: pino.stdTimeFunctions.isoTime,
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
