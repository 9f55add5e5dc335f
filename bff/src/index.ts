/** What the dashboard and the scripts import from `@pdash/bff`: types only. */

export type { OrderChange } from './events.js';
export type { AppRouter } from './routers/index.js';
