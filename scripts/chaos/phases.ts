/** The faults, one at a time under load: inject, hold, heal, time the recovery, verify. */
import { setTimeout as sleep } from 'node:timers/promises';
import type { MongoClient } from 'mongodb';
import { waitForPort } from '../lib/infra.js';
import type { Stack } from '../stack.js';
import type { Api } from './api.js';
import type { Ledger } from './ledger.js';
import type { Load } from './load.js';
import { Recorder } from './recorder.js';
import { type ChaosOptions, type FaultName, type PhaseResult, RECOVERY_LIMIT_MS } from './types.js';
import { verify } from './verify.js';

/** A customer and a supplier made at set-up, for the recovery probe's orders. */
export interface Probe {
  customerId: string;
  supplierId: string;
}

/** What a phase (and the soak) works with. */
export interface Harness {
  stack: Stack;
  api: Api;
  ledger: Ledger;
  mongo: MongoClient;
  load: Load;
  probe: Probe;
  options: ChaosOptions;
  progress: (line: string) => void;
}

export interface Fault {
  fault: FaultName;
  inject: () => Promise<void>;
  heal: () => Promise<void>;
  /** The stack heals it by itself (the supervisor restarts the process). */
  selfHealing?: boolean;
}

/** The faults in the order they are run. */
export function faults(stack: Stack): Fault[] {
  return [
    { fault: 'baseline', inject: async () => {}, heal: async () => {} },
    {
      fault: 'redis',
      inject: () => stack.supervisor.stop('redis', 'SIGTERM'),
      heal: () => stack.supervisor.resume('redis'),
    },
    {
      // SIGKILL; the supervisor restarts it by itself (after its back-off).
      fault: 'bff',
      inject: async () => stack.supervisor.signal('bff-1', 'SIGKILL'),
      // The replica is back in once it listens again.
      heal: () => waitForPort(stack.bffPorts[0]!, RECOVERY_LIMIT_MS),
      selfHealing: true,
    },
    {
      fault: 'customers',
      inject: () => stack.supervisor.stop('customers', 'SIGKILL'),
      heal: () => stack.supervisor.resume('customers'),
    },
    {
      fault: 'mongo',
      inject: () => stack.supervisor.stop('ferretdb', 'SIGTERM'),
      heal: () => stack.supervisor.resume('ferretdb'),
    },
  ];
}

/** Load, the fault held for `faultMs`, the heal, load again; then the checks. */
export async function runPhase(h: Harness, { fault, inject, heal, selfHealing }: Fault): Promise<PhaseResult> {
  const { api, ledger, load, options, probe, progress } = h;
  const recorder = new Recorder(fault);
  load.recorder = recorder;
  progress(`${fault}: load`);
  load.start();
  await sleep(options.calmMs);
  const injectedAt = Date.now();
  await inject();
  // Held from the moment the fault is in place (a killed process has exited): a request that
  // started just before is not one made during the fault.
  recorder.faultHeld = true;
  progress(`${fault}: fault held for ${options.faultMs} ms`);
  let recovered: Promise<number | null> | undefined;
  // A fault the stack heals by itself (the supervisor restarts the replica): recovery counts from the kill.
  if (selfHealing) recovered = waitForRecovery(api, probe, ledger, injectedAt);
  // Held for faultMs from then: FerretDB takes ~3 s to exit on SIGTERM, and counted from the
  // signal its fault was once held for 2 s only, while every worker was still in a request
  // started before (a failure takes up to ~3.5 s there): no request was made during the fault.
  await sleep(options.faultMs);
  const healStarted = selfHealing ? injectedAt : Date.now();
  // Until the heal starts: a request made while the process is coming back (it may already listen
  // when `heal` resolves) is not one made during the fault. A self-healing fault's heal is the wait
  // for the stack to heal itself, so the fault is held through it.
  if (!selfHealing) recorder.faultHeld = false;
  await heal();
  const listening = Date.now();
  recorder.faultHeld = false;
  recorder.phase.recoverMs = await (recovered ?? waitForRecovery(api, probe, ledger, healStarted));
  if (recorder.phase.recoverMs !== null)
    recorder.phase.recoverAfterListeningMs = Math.max(0, healStarted + recorder.phase.recoverMs - listening);
  progress(`${fault}: recovered in ${recorder.phase.recoverMs} ms; load`);
  await sleep(options.calmMs);
  await load.stop();
  await verify(api, ledger, h.mongo, recorder, 150);
  progress(`${fault}: ${recorder.phase.requests} requests, ${recorder.phase.problems.length} problems`);
  for (const problem of recorder.phase.problems.slice(0, 5)) progress(`  ${problem}`);
  return recorder.phase;
}

/** Waits until /healthz answers 200 and an order can be created; ms from `since`, or null. */
export async function waitForRecovery(api: Api, probe: Probe, ledger: Ledger, since: number) {
  const until = since + RECOVERY_LIMIT_MS;
  while (Date.now() < until) {
    const health = await api.call('GET', '/healthz');
    if (health.status === 200) {
      const totalCents = ledger.uniqueTotal();
      ledger.attemptedTotals.add(totalCents);
      const order = await api.call('POST', '/api/orders', { ...probe, totalCents });
      if (order.status === 201) {
        ledger.orders.set(order.body.id, { id: order.body.id, totalCents, version: 1 });
        ledger.ackedTotals.add(totalCents);
        return Date.now() - since;
      }
    }
    await sleep(100);
  }
  return null;
}
