import { IMPORT_LIMITS } from '@pdash/contracts';
import { fireEvent, screen, waitFor, within } from '@solidjs/testing-library';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { setUnauthorizedHandler } from '../lib/session';
import { page, renderPage } from '../test-support';
import { ImportDialog } from './ImportDialog';

vi.mock('../lib/trpc');

const CSV = 'name,email\r\nAcme Corp,acme@example.com\r\nGlobex,globex@example.com\r\n';
const fetchMock = vi.fn<typeof fetch>();
const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });

/** The fetch calls so far: address, headers and body. */
const calls = () =>
  fetchMock.mock.calls.map(([url, init]) => ({
    url: String(url),
    method: init?.method,
    credentials: init?.credentials,
    headers: new Headers(init?.headers),
    body: init?.body,
  }));

async function open(kind: 'customers' | 'suppliers' | 'orders' = 'customers') {
  const rendered = renderPage(() => <ImportDialog kind={kind} onClose={vi.fn()} />);
  const dialog = await screen.findByRole('dialog', { name: `Import ${kind}` });
  const input = within(dialog).getByLabelText('CSV file') as HTMLInputElement;
  const choose = (file: File) => fireEvent.change(input, { target: { files: [file] } });
  return { ...rendered, dialog, input, choose };
}

const csvFile = (text = CSV, name = 'customers.csv') => new File([text], name, { type: 'text/csv' });

describe('ImportDialog', () => {
  beforeEach(() => {
    fetchMock.mockReset();
    vi.stubGlobal('fetch', fetchMock);
  });
  afterEach(() => vi.unstubAllGlobals());

  it('checks the file with a dry run, then imports it with one Idempotency-Key across a retry, and refreshes the list', async () => {
    const { dialog, input, choose, client } = await open();
    expect(input.getAttribute('accept')).toBe('.csv,text/csv');
    client.setQueryData(['customers', 'list', {}], page([]));
    client.setQueryData(['suppliers', 'list', {}], page([]));

    fetchMock.mockResolvedValueOnce(json(200, { created: 0, rows: 2, dryRun: true }));
    choose(csvFile());
    expect((await within(dialog).findByTestId('import-ready')).textContent).toBe('2 rows ready to import');
    const dryRun = calls()[0]!;
    expect(dryRun.url).toBe('/api/customers/import?dryRun=true');
    expect(dryRun.method).toBe('POST');
    expect(dryRun.credentials).toBe('same-origin');
    expect(dryRun.headers.get('Content-Type')).toMatch(/^text\/csv/);
    expect(dryRun.body).toBe(CSV);

    // The connection drops: the import may or may not have happened, so the retry must carry the same key.
    fetchMock.mockRejectedValueOnce(new TypeError('Failed to fetch'));
    fireEvent.click(within(dialog).getByRole('button', { name: 'Import 2 rows' }));
    expect((await within(dialog).findByRole('alert')).textContent).toMatch(/cannot be reached/);
    expect(within(dialog).queryByTestId('import-done')).toBeNull();

    let answer!: (response: Response) => void;
    fetchMock.mockReturnValueOnce(new Promise((resolve) => (answer = resolve)));
    fireEvent.click(within(dialog).getByRole('button', { name: 'Import 2 rows' }));
    expect(await within(dialog).findByText('Importing 2 rows…')).toBeTruthy();
    const progress = dialog.querySelector('progress')!;
    expect(progress.hasAttribute('value')).toBe(false); // indeterminate: the server answers once
    expect(within(dialog).getByRole('button', { name: 'Import 2 rows' }).hasAttribute('disabled')).toBe(true);
    expect(within(dialog).queryByRole('alert')).toBeNull();
    answer(json(201, { created: 2, importId: 'imp-1' }));

    expect((await within(dialog).findByTestId('import-done')).textContent).toBe('Imported 2 rows');
    const [, first, retry] = calls();
    expect(first!.url).toBe('/api/customers/import');
    expect(retry!.url).toBe('/api/customers/import');
    expect(first!.body).toBe(CSV);
    expect(first!.headers.get('Idempotency-Key')).toMatch(/^[0-9a-f]{32}$/);
    expect(retry!.headers.get('Idempotency-Key')).toBe(first!.headers.get('Idempotency-Key'));
    expect(dryRun.headers.get('Idempotency-Key')).toBeNull();
    expect(within(dialog).queryByRole('button', { name: /^Import \d/ })).toBeNull();
    expect(within(dialog).getByRole('button', { name: 'Done' })).toBeTruthy();
    await waitFor(() => expect(client.getQueryState(['customers', 'list', {}])?.isInvalidated).toBe(true));
    expect(client.getQueryState(['suppliers', 'list', {}])?.isInvalidated).toBe(false);
  });

  it('gives another file a new Idempotency-Key', async () => {
    const { dialog, choose } = await open();
    const importOnce = async (name: string) => {
      fetchMock.mockResolvedValueOnce(json(200, { created: 0, rows: 2, dryRun: true }));
      choose(csvFile(CSV, name));
      const button = await within(dialog).findByRole('button', { name: 'Import 2 rows' });
      fetchMock.mockResolvedValueOnce(json(201, { created: 2, importId: name }));
      fireEvent.click(button);
      await within(dialog).findByTestId('import-done');
      return calls().at(-1)!.headers.get('Idempotency-Key');
    };
    const first = await importOnce('a.csv');
    expect(await importOnce('b.csv')).not.toBe(first);
  });

  it('lists the rows at fault in a table, with the total count, and offers no import', async () => {
    const { dialog, choose } = await open('orders');
    fetchMock.mockResolvedValueOnce(
      json(422, {
        error: {
          code: 'UNPROCESSABLE_CONTENT',
          message: '120 problems in the file; nothing was imported (row 0, colour: is not a column of orders)',
          rows: [
            { row: 0, field: 'colour', message: 'is not a column of orders' },
            { row: 2, field: 'totalCents', message: 'must be a whole number of cents' },
          ],
        },
      }),
    );
    choose(csvFile('customerEmail,supplierEmail,totalCents,colour\r\n', 'orders.csv'));
    const table = await within(dialog).findByTestId('import-errors');
    expect(table.querySelector('caption')!.textContent).toMatch(
      /^120 problems in the file; nothing was imported \(the first 2 are listed\)/,
    );
    const headers = within(table)
      .getAllByRole('columnheader')
      .map((th) => th.textContent);
    expect(headers).toEqual(['Row', 'Field', 'Problem']);
    const rows = within(table)
      .getAllByRole('row')
      .slice(1)
      .map((tr) =>
        within(tr)
          .getAllByRole('cell')
          .map((td) => td.textContent),
      );
    expect(rows).toEqual([
      ['File', 'colour', 'is not a column of orders'],
      ['2', 'totalCents', 'must be a whole number of cents'],
    ]);
    expect(calls()[0]!.url).toBe('/api/orders/import?dryRun=true');
    expect(within(dialog).queryByRole('button', { name: /^Import \d/ })).toBeNull();
    expect(within(dialog).queryByRole('alert')).toBeNull();
  });

  it('refuses a file over the size limit without sending it', async () => {
    const { dialog, choose } = await open();
    const big = csvFile();
    Object.defineProperty(big, 'size', { value: IMPORT_LIMITS.maxBytes + 1 });
    choose(big);
    expect((await within(dialog).findByRole('alert')).textContent).toMatch(/^customers\.csv is 10 MiB: an import takes at most 10 MiB\./);
    expect(fetchMock).not.toHaveBeenCalled();
    expect(within(dialog).queryByRole('button', { name: /^Import \d/ })).toBeNull();
  });

  it("shows the server's refusal (403) in an alert, and sends a 401 to the login page", async () => {
    const { dialog, choose } = await open('orders');
    fetchMock.mockResolvedValueOnce(
      json(403, { error: { code: 'FORBIDDEN', message: 'role: admin needed to import createdAt (you are editor)' } }),
    );
    choose(csvFile('customerEmail,supplierEmail,totalCents,createdAt\r\na@x.io,b@x.io,100,2024-01-01T00:00:00Z\r\n'));
    expect((await within(dialog).findByRole('alert')).textContent).toContain('role: admin needed to import createdAt (you are editor)');

    const onUnauthorized = vi.fn();
    setUnauthorizedHandler(onUnauthorized);
    fetchMock.mockResolvedValueOnce(json(401, { error: { code: 'UNAUTHORIZED', message: 'session: expired' } }));
    fireEvent.click(within(dialog).getByRole('button', { name: 'Check again' }));
    await waitFor(() => expect(onUnauthorized).toHaveBeenCalledOnce());
    expect(fetchMock).toHaveBeenCalledTimes(2);
  });

  it('explains an answer that is not the API’s JSON (a proxy’s 413 page)', async () => {
    const { dialog, choose } = await open();
    fetchMock.mockResolvedValueOnce(new Response('<html>413 Request Entity Too Large</html>', { status: 413 }));
    choose(csvFile());
    expect((await within(dialog).findByRole('alert')).textContent).toMatch(/too large: an import takes at most 10 MiB/);
  });
});
