/** The load: closed-loop workers sending a mix of reads, creates and versioned updates through Nginx. */
import { randomBytes } from 'node:crypto';
import type { Api } from './api.js';
import { type CustomerEntry, type Ledger, randomOf } from './ledger.js';
import type { Recorder } from './recorder.js';
import { MAX_CUSTOMERS, MAX_ORDERS } from './types.js';

export class Load {
  private running = false;
  private workers: Promise<void>[] = [];
  /** Per worker: the customers it owns (only it updates them, so a 409 is never another worker's doing). */
  private owned: string[][] = [];

  constructor(
    private readonly api: Api,
    private readonly ledger: Ledger,
    private readonly supplierId: string,
    concurrency: number,
    public recorder: Recorder,
    private readonly mix: { create: number },
  ) {
    for (let i = 0; i < concurrency; i++) this.owned.push([]);
  }

  start() {
    this.running = true;
    this.workers = this.owned.map((_, i) => this.worker(i));
  }

  /** Stops the workers and waits for their requests in flight. */
  async stop() {
    this.running = false;
    await Promise.all(this.workers);
  }

  private async worker(index: number) {
    while (this.running) {
      await this.step(index);
    }
  }

  private async step(index: number) {
    const own = this.owned[index]!;
    const r = Math.random();
    const canCreate = this.ledger.customers.size < MAX_CUSTOMERS;
    if (own.length < 2 && canCreate) return this.createCustomer(index);
    if (r < 0.3) return this.readCustomer();
    if (r < 0.4) return this.listCustomers();
    if (r < 0.5) return this.readOrder();
    if (r < 0.5 + this.mix.create && canCreate) return this.createCustomer(index);
    if (r < 0.85) return this.updateCustomer(index);
    // Past the cap, orders are still created while a fault is held: the customers phase checks them.
    if (this.ledger.orders.size < MAX_ORDERS || this.inFault()) return this.createOrder(index);
    return this.readCustomer();
  }

  private inFault() {
    return this.recorder.faultHeld;
  }

  private async createCustomer(index: number) {
    const name = `chaos ${randomBytes(6).toString('hex')}`;
    this.ledger.attemptedNames.add(name);
    const inFault = this.inFault();
    const answer = await this.api.call('POST', '/api/customers', { name });
    const ok = answer.status === 201 && answer.body?.name === name && answer.body?.version === 1;
    this.recorder.record('POST', '/api/customers', answer, ok, inFault);
    if (!ok) return;
    const id = answer.body.id as string;
    this.ledger.customers.set(id, { id, name, version: 1, known: 1, owner: index });
    this.ledger.ackedNames.add(name);
    this.owned[index]!.push(id);
  }

  private async readCustomer() {
    const entry = this.ledger.randomCustomer();
    if (!entry) return;
    const ackedAtStart = entry.version;
    const inFault = this.inFault();
    const answer = await this.api.call('GET', `/api/customers/${entry.id}`);
    const ok = answer.status === 200;
    this.recorder.record('GET', '/api/customers/:id', answer, ok || answer.status === 404, inFault);
    if (answer.status === 404) {
      this.recorder.phase.staleReads++;
      this.recorder.problem(`GET customer ${entry.id}: 404 for an acknowledged create`);
    }
    if (ok) this.checkFresh(entry, ackedAtStart, answer.body, 'GET');
  }

  private async listCustomers() {
    const ackedAtStart = new Map([...this.ledger.customers.values()].map((e) => [e.id, e.version]));
    const inFault = this.inFault();
    const answer = await this.api.call('GET', '/api/customers?limit=20');
    const ok = answer.status === 200 && Array.isArray(answer.body?.items);
    this.recorder.record('GET', '/api/customers', answer, ok, inFault);
    if (!ok) return;
    for (const item of answer.body.items as { id: string; version: number }[]) {
      const acked = ackedAtStart.get(item.id);
      const entry = this.ledger.customers.get(item.id);
      if (acked !== undefined && entry) this.checkFresh(entry, acked, item, 'list');
    }
  }

  /** A read must not be older than the last update acknowledged before it started. */
  private checkFresh(entry: CustomerEntry, ackedAtStart: number, record: { version: number; name?: string }, how: string) {
    if (record.version < ackedAtStart) {
      this.recorder.phase.staleReads++;
      this.recorder.problem(`${how} customer ${entry.id}: version ${record.version}, acknowledged ${ackedAtStart}`);
    } else if (record.name !== undefined && record.name !== entry.name) {
      this.recorder.phase.staleReads++;
      this.recorder.problem(`${how} customer ${entry.id}: name ${record.name}, expected ${entry.name}`);
    }
  }

  private async readOrder() {
    const entry = this.ledger.randomOrder();
    if (!entry) return;
    const inFault = this.inFault();
    const answer = await this.api.call('GET', `/api/orders/${entry.id}`);
    const ok = answer.status === 200;
    this.recorder.record('GET', '/api/orders/:id', answer, ok || answer.status === 404, inFault);
    if (answer.status === 404) {
      this.recorder.phase.staleReads++;
      this.recorder.problem(`GET order ${entry.id}: 404 for an acknowledged create`);
    } else if (ok && (answer.body.version < entry.version || answer.body.totalCents !== entry.totalCents)) {
      this.recorder.phase.staleReads++;
      this.recorder.problem(`GET order ${entry.id}: ${JSON.stringify(answer.body)} older than acknowledged`);
    }
  }

  private async updateCustomer(index: number) {
    const id = randomOf(this.owned[index]!);
    if (!id) return;
    const entry = this.ledger.customers.get(id)!;
    if (entry.uncertain) {
      // Learn whether the unanswered update was applied before building on a version.
      const inFault = this.inFault();
      const read = await this.api.call('GET', `/api/customers/${id}`);
      this.recorder.record('GET', '/api/customers/:id', read, read.status === 200, inFault);
      if (read.status !== 200) return;
      this.checkFresh(entry, entry.version, read.body, 'GET');
      entry.known = read.body.version;
      if (read.body.version === entry.uncertain.version && read.body.phone === entry.uncertain.phone) {
        entry.version = read.body.version;
        entry.phone = read.body.phone;
      }
      entry.uncertain = undefined;
    }
    const phone = `+1 555 ${String(Math.floor(Math.random() * 1e7)).padStart(7, '0')}`;
    const inFault = this.inFault();
    const base = entry.known;
    const answer = await this.api.call('PATCH', `/api/customers/${id}`, { phone, version: base });
    const ok = answer.status === 200 && answer.body?.version === base + 1 && answer.body?.phone === phone;
    this.recorder.record('PATCH', '/api/customers/:id', answer, ok, inFault);
    if (ok) {
      this.ledger.updates++;
      entry.version = base + 1;
      entry.known = base + 1;
      entry.phone = phone;
      return;
    }
    if (typeof answer.status !== 'number' || answer.status >= 500) entry.uncertain = { version: base + 1, phone };
    else {
      // A 4xx on a record only this worker writes, at the version it knows: not expected.
      this.recorder.problem(`PATCH customer ${id} v${base}: ${answer.status} ${JSON.stringify(answer.body)}`);
      entry.uncertain = { version: base + 1, phone };
    }
  }

  private async createOrder(index: number) {
    const customerId = randomOf(this.owned[index]!);
    if (!customerId) return;
    const totalCents = this.ledger.uniqueTotal();
    this.ledger.attemptedTotals.add(totalCents);
    const inFault = this.inFault();
    const answer = await this.api.call('POST', '/api/orders', { customerId, supplierId: this.supplierId, totalCents });
    const ok = answer.status === 201 && answer.body?.totalCents === totalCents;
    this.recorder.record('POST', '/api/orders', answer, ok, inFault);
    if (!ok) return;
    this.ledger.orders.set(answer.body.id, { id: answer.body.id, totalCents, version: 1 });
    this.ledger.ackedTotals.add(totalCents);
  }
}
