/** pdash's one source of rules: records, inputs and limits (docs/changing.md). */
export * from './audit.js';
export * from './auth.js';
export * from './csv.js';
export * from './errors.js';
export * from './imports.js';
export * from './orders.js';
export * from './parties.js';
export * from './rules.js';
