import { optionalPartyFields, PARTY_FIELDS, type PartyField, partyFieldNames } from '@pdash/contracts';
import { useMutation, useQueryClient } from '@tanstack/solid-query';
import { createSignal, For, Show } from 'solid-js';
import { errorMessage } from '../lib/errors';
import { createFormErrors } from '../lib/forms';
import { PARTY_WORDS } from '../lib/parties';
import { queries, restore, type Snapshot, snapshot } from '../lib/queries';
import { partyForm, validate } from '../lib/schemas';
import { toast } from '../lib/toast';
import { type Party, type PartyKind, type PartyPage, trpc } from '../lib/trpc';
import { ConfirmDialog } from './ConfirmDialog';
import { Dialog } from './Dialog';
import { Field, FormError } from './Field';

type Values = Record<PartyField, string>;
const FIELDS = partyFieldNames;

const valuesOf = (party: Party | undefined) => Object.fromEntries(FIELDS.map((f) => [f, party?.[f] ?? ''])) as Values;
/** An empty optional field: none on create, removed on update (the record shows it absent). */
const withoutEmpty = (input: Values) => {
  const fields: Partial<Values> = { ...input };
  for (const field of optionalPartyFields) if (fields[field] === '') delete fields[field];
  return fields as Values;
};

/**
 * Creates a customer or supplier, or edits `party` (optimistically, named by its version: an edit
 * made meanwhile by someone else is a conflict, with a button to load it).
 */
export function PartyDialog(props: { kind: PartyKind; party?: Party; onClose: () => void }) {
  const client = useQueryClient();
  const words = PARTY_WORDS[props.kind];
  const start = props.party ? { ...props.party } : undefined;
  const [values, setValues] = createSignal(valuesOf(start));
  const [version, setVersion] = createSignal(start?.version);
  const form = createFormErrors(FIELDS, words.one);
  // Orders show the names of their customer and supplier: those change too.
  const refresh = () =>
    Promise.all([client.invalidateQueries({ queryKey: [props.kind] }), client.invalidateQueries({ queryKey: ['orders'] })]);

  const create = useMutation(() => ({
    mutationFn: (input: Values) => trpc[props.kind].create.mutate(withoutEmpty(input)),
    onSuccess: (party) => {
      toast.success(`${capitalize(words.one)} ${party.name} created`);
      props.onClose();
    },
    onError: (err) => form.fromServer(err),
    onSettled: refresh,
  }));

  const update = useMutation(() => ({
    // An empty optional field removes it.
    mutationFn: (input: Values) => trpc[props.kind].update.mutate({ id: start!.id, ...input, version: version() }),
    onMutate: async (input): Promise<Snapshot> => {
      const saved = await snapshot(client, [props.kind]);
      const patched: Party = { ...start!, ...input };
      for (const field of optionalPartyFields) if (input[field] === '') delete patched[field];
      client.setQueriesData<PartyPage>({ queryKey: [props.kind, 'list'] }, (page) =>
        page ? { ...page, items: page.items.map((item) => (item.id === patched.id ? patched : item)) } : page,
      );
      client.setQueryData(queries.party(props.kind, patched.id).queryKey, patched);
      return saved;
    },
    onError: (err, _input, saved) => {
      restore(client, saved);
      form.fromServer(err, { update: true });
    },
    onSuccess: (party) => {
      client.setQueryData(queries.party(props.kind, party.id).queryKey, party);
      toast.success(`${capitalize(words.one)} saved`);
      props.onClose();
    },
    onSettled: refresh,
  }));

  const reload = async () => {
    try {
      const latest = await client.fetchQuery({ ...queries.party(props.kind, start!.id), staleTime: 0 });
      setValues(valuesOf(latest));
      setVersion(latest.version);
      form.reloaded();
    } catch (err) {
      form.reloaded(err);
    }
  };

  const pending = () => create.isPending || update.isPending;
  const set = (field: keyof Values) => (value: string) => setValues((v) => ({ ...v, [field]: value }));

  const submit = (event: SubmitEvent) => {
    event.preventDefault();
    const result = validate(partyForm, values());
    form.reset(result.errors);
    if (!result.data) return;
    if (start) update.mutate(result.data);
    else create.mutate(result.data);
  };

  return (
    <Dialog title={start ? `Edit ${words.one}` : `New ${words.one}`} onClose={props.onClose}>
      <form class="dialog-body" onSubmit={submit} noValidate>
        <For each={FIELDS}>
          {(field) => (
            <Field
              label={PARTY_FIELDS[field].optional ? `${PARTY_FIELDS[field].label} (optional)` : PARTY_FIELDS[field].label}
              name={field}
              type={PARTY_FIELDS[field].input.type}
              autocomplete={PARTY_FIELDS[field].input.autocomplete}
              value={values()[field]}
              onValue={set(field)}
              error={form.errors()[field]}
            />
          )}
        </For>
        <FormError message={form.formError()}>
          <Show when={form.conflict()}>
            <button type="button" onClick={() => void reload()}>
              Reload the latest version
            </button>
          </Show>
        </FormError>
        <div class="dialog-actions">
          <button type="button" class="secondary" onClick={() => props.onClose()}>
            Cancel
          </button>
          <button type="submit" class="primary" disabled={pending()}>
            {pending() ? 'Saving…' : start ? 'Save' : `Create ${words.one}`}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

export const capitalize = (word: string) => word.charAt(0).toUpperCase() + word.slice(1);

/**
 * Deleting a customer or supplier: removed from the lists at once, put back if the server refuses,
 * and its refusal (the record still has orders) shown in its own words.
 */
export function DeletePartyDialog(props: { kind: PartyKind; party: Party; onClose: () => void; onDeleted?: () => void }) {
  const client = useQueryClient();
  const words = PARTY_WORDS[props.kind];
  const [error, setError] = createSignal<string>();
  const remove = useMutation(() => ({
    mutationFn: () => trpc[props.kind].delete.mutate({ id: props.party.id }),
    onMutate: async (): Promise<Snapshot> => {
      const saved = await snapshot(client, [props.kind, 'list']);
      client.setQueriesData<PartyPage>({ queryKey: [props.kind, 'list'] }, (page) =>
        page ? { ...page, items: page.items.filter((item) => item.id !== props.party.id), total: page.total - 1 } : page,
      );
      return saved;
    },
    onError: (err, _input, saved) => {
      restore(client, saved);
      setError(errorMessage(err));
      toast.error(errorMessage(err));
    },
    onSuccess: () => {
      toast.success(`${capitalize(words.one)} ${props.party.name} deleted`);
      client.removeQueries({ queryKey: queries.party(props.kind, props.party.id).queryKey });
      props.onClose();
      props.onDeleted?.();
    },
    onSettled: () => client.invalidateQueries({ queryKey: [props.kind, 'list'] }),
  }));

  return (
    <ConfirmDialog
      title={`Delete ${words.one}?`}
      confirmLabel={`Delete ${words.one}`}
      pending={remove.isPending}
      error={error()}
      onConfirm={() => remove.mutate()}
      onClose={props.onClose}
    >
      <p>
        {capitalize(words.one)} <strong>{props.party.name}</strong> will be deleted. A {words.one} that still has orders cannot be deleted.
      </p>
    </ConfirmDialog>
  );
}
