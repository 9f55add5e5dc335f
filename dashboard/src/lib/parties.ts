import type { PartyKind } from './trpc';

/** How the pages name customers and suppliers: one generic page serves both. */
export const PARTY_WORDS: Record<PartyKind, { one: string; many: string; title: string }> = {
  customers: { one: 'customer', many: 'customers', title: 'Customers' },
  suppliers: { one: 'supplier', many: 'suppliers', title: 'Suppliers' },
};
