import { IMPORT_LIMITS, ORDER_COLUMNS, PARTY_COLUMNS, type RowError } from '@pdash/contracts';
import { useQueryClient } from '@tanstack/solid-query';
import { createSignal, createUniqueId, For, Match, onCleanup, Show, Switch } from 'solid-js';
import { errorMessage } from '../lib/errors';
import { formatBytes, formatCount } from '../lib/format';
import { randomKey } from '../lib/keys';
import { ImportError, type ImportKind, importCsv } from '../lib/transfer';
import { Dialog } from './Dialog';

type Step =
  | { at: 'choose' }
  | { at: 'checking'; name: string }
  | { at: 'ready'; rows: number }
  | { at: 'invalid'; errors: RowError[]; count: number }
  | { at: 'importing'; rows: number }
  | { at: 'done'; created: number };

/** The file being imported: its text, and the one Idempotency-Key of every import of it. */
interface Chosen {
  text: string;
  key: string;
}

const rows = (n: number) => `${formatCount(n)} row${n === 1 ? '' : 's'}`;
const problems = (n: number) => `${formatCount(n)} problem${n === 1 ? '' : 's'}`;

const COLUMNS: Record<ImportKind, string> = {
  customers: `Columns: ${PARTY_COLUMNS.join(', ')} (only name is required); an export's id and createdAt keep each record's (createdAt only for admins).`,
  suppliers: `Columns: ${PARTY_COLUMNS.join(', ')} (only name is required); an export's id and createdAt keep each record's (createdAt only for admins).`,
  orders: `Columns: ${ORDER_COLUMNS.join(', ')}: each party by its id or its email; createdAt only for admins.`,
};

/**
 * Imports a CSV file of customers, suppliers or orders: checks it on the server first (a dry run,
 * which writes nothing) and shows either the row count or every problem, then imports it, all or
 * nothing. Each chosen file gets one Idempotency-Key, so pressing Import again after a failure
 * (a dropped connection, a 503: the import may have happened) creates nothing twice.
 */
export function ImportDialog(props: { kind: ImportKind; onClose: () => void }) {
  const client = useQueryClient();
  const inputId = createUniqueId();
  const hintId = `${inputId}-hint`;
  const [step, setStep] = createSignal<Step>({ at: 'choose' });
  const [error, setError] = createSignal<{ message: string; retry?: () => void }>();
  let chosen: Chosen | undefined;
  let input!: HTMLInputElement;
  // Each file choice starts a new attempt; the answers of an older one (or after closing) are dropped.
  let attempt = 0;
  onCleanup(() => attempt++);

  const fail = (err: unknown, retry?: () => void) => {
    if (err instanceof ImportError && err.rows.length > 0) {
      setStep({ at: 'invalid', errors: err.rows, count: err.rowCount });
      // So that choosing the same file, once fixed, is a change again.
      input.value = '';
      return;
    }
    // A 403 may mean the role was lowered meanwhile: the pages ask the session again (as query-client.ts does).
    if (err instanceof ImportError && err.status === 403) void client.invalidateQueries({ queryKey: ['auth', 'session'] });
    setError({ message: errorMessage(err), ...(retry ? { retry } : {}) });
  };

  const check = async (file: Chosen, name: string, current: number) => {
    setError();
    setStep({ at: 'checking', name });
    try {
      const answer = await importCsv(props.kind, file.text, { dryRun: true });
      if (current !== attempt) return;
      setStep({ at: 'ready', rows: answer.dryRun ? answer.rows : 0 });
    } catch (err) {
      if (current !== attempt) return;
      setStep({ at: 'choose' });
      fail(err, () => void check(file, name, current));
    }
  };

  const choose = async (file: File | undefined) => {
    const current = ++attempt;
    chosen = undefined;
    setError();
    setStep({ at: 'choose' });
    if (!file) return;
    if (file.size > IMPORT_LIMITS.maxBytes) {
      setError({
        message: `${file.name} is ${formatBytes(file.size)}: an import takes at most ${formatBytes(IMPORT_LIMITS.maxBytes)}. Split it into smaller files.`,
      });
      return;
    }
    try {
      const text = await file.text();
      if (current !== attempt) return;
      chosen = { text, key: randomKey() };
      await check(chosen, file.name, current);
    } catch (err) {
      if (current === attempt) fail(err);
    }
  };

  const run = async () => {
    const current = step();
    if (!chosen || current.at !== 'ready') return;
    setError();
    setStep({ at: 'importing', rows: current.rows });
    try {
      const answer = await importCsv(props.kind, chosen.text, { dryRun: false, key: chosen.key });
      setStep({ at: 'done', created: answer.dryRun ? 0 : answer.created });
    } catch (err) {
      setStep(current);
      fail(err);
    } finally {
      // Even after a failure: a dropped connection does not mean nothing was imported. Orders'
      // key prefix also holds the stats and every customer's and supplier's order totals.
      void client.invalidateQueries({ queryKey: [props.kind] });
    }
  };

  const busy = () => step().at === 'checking' || step().at === 'importing';
  const at = <A extends Step['at']>(name: A) => {
    const current = step();
    return current.at === name ? (current as Extract<Step, { at: A }>) : undefined;
  };

  return (
    <Dialog title={`Import ${props.kind}`} onClose={props.onClose}>
      <div class="dialog-body import-dialog">
        <div class="field">
          <label for={inputId}>CSV file</label>
          <input
            ref={input}
            id={inputId}
            type="file"
            accept=".csv,text/csv"
            disabled={busy()}
            aria-describedby={hintId}
            onChange={(event) => void choose(event.currentTarget.files?.[0])}
          />
          <p class="hint" id={hintId}>
            A header row, then one record a line (UTF-8). {COLUMNS[props.kind]} At most {formatBytes(IMPORT_LIMITS.maxBytes)} and{' '}
            {formatCount(IMPORT_LIMITS.maxRows)} rows. Nothing is imported before you confirm.
          </p>
        </div>

        <Show when={error()}>
          {(shown) => (
            <div class="form-error" role="alert">
              <p>{shown().message}</p>
              <Show when={shown().retry}>
                {(retry) => (
                  <button type="button" onClick={() => retry()()}>
                    Check again
                  </button>
                )}
              </Show>
            </div>
          )}
        </Show>

        <div class="import-status" role="status">
          <Switch>
            <Match when={at('checking')}>
              {(checking) => (
                <p>
                  <progress aria-label={`Checking ${checking().name}`} /> Checking {checking().name}…
                </p>
              )}
            </Match>
            <Match when={at('ready')}>
              {(ready) => (
                <p data-testid="import-ready">
                  {ready().rows === 0 ? 'The file has no rows to import.' : `${rows(ready().rows)} ready to import`}
                </p>
              )}
            </Match>
            <Match when={at('importing')}>
              {(importing) => (
                <p>
                  <progress aria-label={`Importing ${rows(importing().rows)}`} /> Importing {rows(importing().rows)}…
                </p>
              )}
            </Match>
            <Match when={at('done')}>{(done) => <p data-testid="import-done">Imported {rows(done().created)}</p>}</Match>
          </Switch>
        </div>

        <Show when={at('invalid')}>
          {(invalid) => (
            <div class="table-wrap import-errors">
              <table class="data compact" data-testid="import-errors">
                <caption>
                  {problems(invalid().count)} in the file; nothing was imported
                  {invalid().count > invalid().errors.length ? ` (the first ${formatCount(invalid().errors.length)} are listed)` : ''}. Fix
                  the file and choose it again.
                </caption>
                <thead>
                  <tr>
                    <th scope="col">Row</th>
                    <th scope="col">Field</th>
                    <th scope="col">Problem</th>
                  </tr>
                </thead>
                <tbody>
                  <For each={invalid().errors}>
                    {(problem) => (
                      <tr>
                        <td class="num">{problem.row === 0 ? 'File' : formatCount(problem.row)}</td>
                        <td>{problem.field}</td>
                        <td>{problem.message}</td>
                      </tr>
                    )}
                  </For>
                </tbody>
              </table>
            </div>
          )}
        </Show>

        <div class="dialog-actions">
          <button type="button" class="secondary" onClick={() => props.onClose()}>
            {at('done') ? 'Done' : 'Cancel'}
          </button>
          <Show when={(at('ready')?.rows ?? at('importing')?.rows ?? 0) > 0}>
            <button type="button" class="primary" disabled={!!at('importing')} onClick={() => void run()}>
              Import {rows(at('ready')?.rows ?? at('importing')?.rows ?? 0)}
            </button>
          </Show>
        </div>
      </div>
    </Dialog>
  );
}
