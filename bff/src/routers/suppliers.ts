import { partyRouter } from './parties.js';

export const suppliersRouter = partyRouter((clients) => clients.suppliers, 'suppliers', 'supplier');
