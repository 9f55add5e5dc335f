import { partyRouter } from './parties.js';

export const customersRouter = partyRouter((clients) => clients.customers, 'customers', 'customer');
