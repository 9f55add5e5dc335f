import { INVITE_HOURS, ROLES, type Role } from '@pdash/contracts';
import { useMutation } from '@tanstack/solid-query';
import { createSignal, For, onCleanup, Show } from 'solid-js';
import { formatDateTime } from '../lib/format';
import { createFormErrors } from '../lib/forms';
import { inviteForm, validate } from '../lib/schemas';
import { type Invite, type RouterInputs, trpc } from '../lib/trpc';
import { Field, FormError } from './Field';

type InviteInput = RouterInputs['users']['invite'];
const FIELDS = ['role', 'email', 'expiresInHours'] as const;
const COPIED_MS = 3000;

/** What a role may do, beside its name in the role selects. */
export const ROLE_WORDS: Record<Role, string> = {
  viewer: 'Viewer (reads only)',
  editor: 'Editor (creates, edits, deletes records)',
  admin: 'Admin (also manages users)',
};

/**
 * Makes an invitation (users.invite) and shows its sign-up link to pass on, with a button that
 * copies it. Where the clipboard cannot be used (no permission, not a secure page) the link stays
 * in a read-only field, selected for copying by hand.
 */
export function InviteForm() {
  const [values, setValues] = createSignal({ role: 'viewer' as Role, email: '', expiresInHours: '' });
  const form = createFormErrors(FIELDS, 'invitation', { toast: false });
  const [invite, setInvite] = createSignal<Invite>();
  const [copy, setCopy] = createSignal<'copied' | 'manual'>();
  let linkField: HTMLInputElement | undefined;
  let copyTimer: ReturnType<typeof setTimeout> | undefined;
  onCleanup(() => clearTimeout(copyTimer));

  const create = useMutation(() => ({
    mutationFn: (input: InviteInput) => trpc.users.invite.mutate(input),
    onSuccess: (result) => {
      setInvite(result);
      setCopy();
    },
    onError: (err) => form.fromServer(err),
  }));

  const submit = (event: SubmitEvent) => {
    event.preventDefault();
    const result = validate(inviteForm, values());
    form.reset(result.errors);
    if (result.data) create.mutate(result.data);
  };

  const copyLink = async (url: string) => {
    clearTimeout(copyTimer);
    try {
      if (!navigator.clipboard) throw new Error('no clipboard');
      await navigator.clipboard.writeText(url);
      setCopy('copied');
      copyTimer = setTimeout(() => setCopy(), COPIED_MS);
    } catch {
      setCopy('manual');
      linkField?.focus();
      linkField?.select();
    }
  };

  const set = (field: 'email' | 'expiresInHours') => (value: string) => setValues((v) => ({ ...v, [field]: value }));

  return (
    <section class="card invite" aria-labelledby="invite-title">
      <h2 id="invite-title">Invite someone</h2>
      <form class="invite-form" onSubmit={submit} noValidate>
        <div class="field" classList={{ invalid: !!form.errors().role }}>
          <label for="invite-role">Role</label>
          <select id="invite-role" name="role" onChange={(event) => setValues((v) => ({ ...v, role: event.currentTarget.value as Role }))}>
            <For each={ROLES}>
              {(role) => (
                <option value={role} selected={values().role === role}>
                  {ROLE_WORDS[role]}
                </option>
              )}
            </For>
          </select>
        </div>
        <Field
          label="Email (optional)"
          name="email"
          type="email"
          autocomplete="off"
          hint="Who the invitation is for; not checked at sign-up"
          value={values().email}
          onValue={set('email')}
          error={form.errors().email}
        />
        <Field
          label="Expires in hours (optional)"
          name="expiresInHours"
          inputMode="numeric"
          hint={`${INVITE_HOURS.min} to ${INVITE_HOURS.max}; ${INVITE_HOURS.default} if left empty`}
          value={values().expiresInHours}
          onValue={set('expiresInHours')}
          error={form.errors().expiresInHours}
        />
        <FormError message={form.errors().role ?? form.formError()} />
        <button type="submit" class="primary" disabled={create.isPending}>
          {create.isPending ? 'Creating invite…' : 'Create invite'}
        </button>
      </form>

      <Show when={invite()}>
        {(made) => (
          <div class="invite-result" data-testid="invite-result">
            <div class="field">
              <label for="invite-link">Invite link</label>
              <div class="copy-row">
                <input
                  ref={linkField}
                  id="invite-link"
                  type="text"
                  readOnly
                  value={made().url}
                  aria-describedby="invite-link-hint"
                  onFocus={(event) => event.currentTarget.select()}
                />
                <button type="button" onClick={() => void copyLink(made().url)}>
                  Copy link
                </button>
              </div>
              <p class="hint" id="invite-link-hint">
                For a new {made().role}
                {made().email ? ` (${made().email})` : ''}; works once, until {formatDateTime(made().expiresAt)}.
              </p>
              <p class="copy-status" role="status" data-testid="copy-status">
                {copy() === 'copied' ? 'Copied' : copy() === 'manual' ? 'The link is selected: copy it with Ctrl+C (⌘C on a Mac).' : ''}
              </p>
            </div>
          </div>
        )}
      </Show>
    </section>
  );
}
