import { fireEvent, screen, within } from '@solidjs/testing-library';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { type AuditEntry, trpc } from '../lib/trpc';
import { renderPage } from '../test-support';
import { formatChange, HistoryPanel } from './HistoryPanel';

vi.mock('../lib/trpc');
const list = vi.mocked(trpc.audit.list.query);
const ORDER_ID = 'a'.repeat(24);
const CURSOR = `1_${'f'.repeat(24)}`;

const entry = (fields: Partial<AuditEntry>): AuditEntry => ({
  id: Math.random().toString(16).slice(2).padEnd(24, '0'),
  at: '2026-03-05T10:00:00.000Z',
  actor: { id: 'b'.repeat(24), username: 'alice' },
  action: 'updated',
  entity: 'order',
  entityId: ORDER_ID,
  changes: {},
  ...fields,
});

describe('HistoryPanel', () => {
  beforeEach(() => list.mockReset());

  it("lists a record's entries newest first: who, what and when, each change as `field: from → to`", async () => {
    list.mockResolvedValue({
      items: [
        entry({ action: 'updated', at: '2026-03-06T09:30:00.000Z', changes: { totalCents: { from: 12345, to: 20000 } } }),
        entry({ action: 'created', actor: null, changes: { customerId: { to: 'c'.repeat(24) } } }),
      ],
      nextCursor: null,
    });
    renderPage(() => <HistoryPanel kind="orders" id={ORDER_ID} />);

    const history = await screen.findByRole('list', { name: 'Changes, newest first' });
    const entries = [...history.querySelectorAll<HTMLElement>('li.history-entry')];
    expect(entries).toHaveLength(2);
    expect(entries[0]!.textContent).toContain('alice updated');
    expect(within(entries[0]!).getByText('totalCents: $123.45 → $200.00')).toBeTruthy();
    expect(entries[0]!.querySelector('time')!.getAttribute('datetime')).toBe('2026-03-06T09:30:00.000Z');
    expect(entries[0]!.querySelector('time')!.textContent).toContain('2026');
    expect(entries[1]!.textContent).toContain('system created');
    expect(within(entries[1]!).getByText(`customerId: — → ${'c'.repeat(24)}`)).toBeTruthy();
    expect(list).toHaveBeenCalledWith({ entity: 'order', entityId: ORDER_ID, limit: 20, cursor: undefined }, expect.anything());
    expect(screen.queryByRole('button', { name: 'Older' })).toBeNull();
  });

  it('fetches older entries below the newer ones while there is a next cursor', async () => {
    list.mockImplementation(
      (input) =>
        Promise.resolve(
          input?.cursor === CURSOR
            ? { items: [entry({ action: 'created', actor: { id: 'd'.repeat(24), username: 'carol' } })], nextCursor: null }
            : { items: [entry({ action: 'updated', actor: { id: 'e'.repeat(24), username: 'bob' } })], nextCursor: CURSOR },
        ) as never,
    );
    renderPage(() => <HistoryPanel kind="customers" id={ORDER_ID} />);
    fireEvent.click(await screen.findByRole('button', { name: 'Older' }));
    expect(await screen.findByText('carol')).toBeTruthy();
    const actors = [...document.querySelectorAll('.history-actor')].map((el) => el.textContent);
    expect(actors).toEqual(['bob', 'carol']);
    expect(list).toHaveBeenLastCalledWith({ entity: 'customer', entityId: ORDER_ID, limit: 20, cursor: CURSOR }, expect.anything());
    expect(screen.queryByRole('button', { name: 'Older' })).toBeNull();
  });

  it('says so when nothing is recorded yet', async () => {
    list.mockResolvedValue({ items: [], nextCursor: null });
    renderPage(() => <HistoryPanel kind="suppliers" id={ORDER_ID} />);
    expect(await screen.findByText('No changes recorded yet.')).toBeTruthy();
    expect(list).toHaveBeenCalledWith(expect.objectContaining({ entity: 'supplier' }), expect.anything());
  });

  it('shows a removed value as a dash', () => {
    expect(formatChange('email', { from: 'a@b.co' })).toBe('email: a@b.co → —');
  });
});
