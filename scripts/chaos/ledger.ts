/** The ledger: what the server acknowledged. */

export interface CustomerEntry {
  id: string;
  name: string;
  /** Last acknowledged version and fields. */
  version: number;
  phone?: string;
  /** An update whose answer never came: the server may or may not have applied it. */
  uncertain?: { version: number; phone: string };
  /** Version the owner knows (acknowledged, or read back after an uncertain update). */
  known: number;
  owner: number;
}

export interface OrderEntry {
  id: string;
  totalCents: number;
  version: number;
}

export class Ledger {
  readonly customers = new Map<string, CustomerEntry>();
  readonly orders = new Map<string, OrderEntry>();
  /** Every name / totalCents a create was attempted with (acknowledged or not), for the duplicate check. */
  readonly attemptedNames = new Set<string>();
  readonly attemptedTotals = new Set<number>();
  readonly ackedNames = new Set<string>();
  readonly ackedTotals = new Set<number>();
  updates = 0;
  private nextTotal = 1_000 + Math.floor(Math.random() * 1_000) * 1_000_000;

  uniqueTotal() {
    this.nextTotal += 1;
    return this.nextTotal;
  }

  randomCustomer() {
    return randomOf([...this.customers.values()]);
  }

  randomOrder() {
    return randomOf([...this.orders.values()]);
  }
}

export function randomOf<T>(items: T[]): T | undefined {
  return items.length === 0 ? undefined : items[Math.floor(Math.random() * items.length)];
}
