import { ROLES, type Role } from '@pdash/contracts';
import { keepPreviousData, type QueryClient, useMutation, useQuery, useQueryClient } from '@tanstack/solid-query';
import { createSignal, For, Match, Show, Switch } from 'solid-js';
import { FormError } from '../components/Field';
import { InviteForm, ROLE_WORDS } from '../components/InviteForm';
import { createPager, PagerNav } from '../components/Pager';
import { EmptyState, LoadError, TableSkeleton } from '../components/States';
import { useAllows, useUser } from '../lib/access';
import { errorMessage } from '../lib/errors';
import { formatCount, formatDateTime } from '../lib/format';
import { loaded, PAGE_SIZE, queries, restore, type Snapshot, snapshot } from '../lib/queries';
import { toast } from '../lib/toast';
import { trpc, type User, type UserPage } from '../lib/trpc';

/** Accounts, for admins: invite someone, change a role, disable or enable an account. */
export default function Users() {
  const isAdmin = useAllows('admin');
  return (
    <section class="page" aria-labelledby="users-title">
      <div class="page-head">
        <h1 id="users-title">Users</h1>
      </div>
      <Show
        when={isAdmin()}
        fallback={
          <div data-testid="admins-only">
            <EmptyState title="Admins only: managing users needs the admin role.">
              <p class="muted">Ask an admin if you need an account changed or someone invited.</p>
            </EmptyState>
          </div>
        }
      >
        <InviteForm />
        <UsersTable />
      </Show>
    </section>
  );
}

/** A change to one account: its role, or whether it is disabled. */
type UserChange = { user: User; role?: Role; disabled?: boolean };

/** Replaces a user in every cached page of the list. */
function patchUser(client: QueryClient, user: User) {
  client.setQueriesData<UserPage>({ queryKey: ['users', 'list'] }, (page) =>
    page ? { ...page, items: page.items.map((item) => (item.id === user.id ? user : item)) } : page,
  );
}

const changeWords = (user: User, change: Omit<UserChange, 'user'>) =>
  change.role !== undefined
    ? `${user.username} is now ${change.role === 'admin' ? 'an' : 'a'} ${change.role}`
    : `${user.username} ${change.disabled ? 'disabled' : 'enabled'}`;

function UsersTable() {
  const client = useQueryClient();
  const me = useUser();
  const pager = createPager(() => null);
  const list = useQuery(() => ({ ...queries.users({ limit: PAGE_SIZE, cursor: pager.cursor() }), placeholderData: keepPreviousData }));
  const page = () => loaded(list);
  const [error, setError] = createSignal<string>();

  // Shown at once, put back when the server refuses (the last enabled admin: 409), with its reason.
  const update = useMutation(() => ({
    mutationFn: ({ user, ...change }: UserChange) => trpc.users.update.mutate({ id: user.id, ...change }),
    onMutate: async ({ user, ...change }): Promise<Snapshot> => {
      setError();
      const saved = await snapshot(client, ['users', 'list']);
      patchUser(client, { ...user, ...change });
      return saved;
    },
    onError: (err, { user }, saved) => {
      restore(client, saved);
      setError(`${user.username} was not changed: ${errorMessage(err)}`);
    },
    onSuccess: (updated, { user, ...change }) => {
      patchUser(client, updated);
      toast.success(changeWords(updated, change));
      // One's own role or account changed: the session says what the pages may show now.
      if (user.id === me()?.id) void client.invalidateQueries({ queryKey: queries.session().queryKey });
    },
    onSettled: () => client.invalidateQueries({ queryKey: ['users'] }),
  }));
  const pendingFor = (user: User) => update.isPending && update.variables?.user.id === user.id;

  return (
    <section aria-labelledby="users-list-title">
      <h2 id="users-list-title">Accounts</h2>
      <p class="muted count" aria-live="polite">
        <Show when={page()}>{(current) => `${formatCount(current().total)} users`}</Show>
      </p>
      <FormError message={error()} />
      <Switch>
        <Match when={list.isError && !page()}>
          <LoadError message={errorMessage(list.error)} onRetry={() => void list.refetch()} />
        </Match>
        <Match when={!page()}>
          <TableSkeleton columns={6} label="users" />
        </Match>
        <Match when={page()?.items.length === 0}>
          <EmptyState title="No users on this page." />
        </Match>
        <Match when={page()}>
          {(current) => (
            <>
              <div class="table-wrap" classList={{ stale: list.isPlaceholderData }}>
                <table class="data users-table">
                  <caption class="visually-hidden">Users, newest first</caption>
                  <thead>
                    <tr>
                      <th scope="col">Username</th>
                      <th scope="col">Email</th>
                      <th scope="col">Role</th>
                      <th scope="col">Status</th>
                      <th scope="col">Created</th>
                      <th scope="col">
                        <span class="visually-hidden">Actions</span>
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    <For each={current().items}>
                      {(user) => (
                        <tr data-user-id={user.id} data-username={user.username} classList={{ disabled: user.disabled }}>
                          <td data-label="Username">
                            {user.username}
                            <Show when={user.id === me()?.id}>
                              <span class="muted"> (you)</span>
                            </Show>
                          </td>
                          <td data-label="Email">{user.email}</td>
                          <td data-label="Role">
                            <select
                              aria-label={`Role of ${user.username}`}
                              disabled={pendingFor(user)}
                              onChange={(event) => update.mutate({ user, role: event.currentTarget.value as Role })}
                            >
                              <For each={ROLES}>
                                {(role) => (
                                  <option value={role} selected={user.role === role} title={ROLE_WORDS[role]}>
                                    {role}
                                  </option>
                                )}
                              </For>
                            </select>
                          </td>
                          <td data-label="Status" data-testid="user-status">
                            {user.disabled ? 'Disabled' : 'Enabled'}
                          </td>
                          <td data-label="Created">
                            <time datetime={user.createdAt}>{formatDateTime(user.createdAt)}</time>
                          </td>
                          <td class="actions">
                            <button
                              type="button"
                              class="link"
                              classList={{ 'danger-link': !user.disabled }}
                              aria-label={`${user.disabled ? 'Enable' : 'Disable'} ${user.username}`}
                              disabled={pendingFor(user)}
                              onClick={() => update.mutate({ user, disabled: !user.disabled })}
                            >
                              {user.disabled ? 'Enable' : 'Disable'}
                            </button>
                          </td>
                        </tr>
                      )}
                    </For>
                  </tbody>
                </table>
              </div>
              <PagerNav pager={pager} nextCursor={current().nextCursor} total={current().total} pageSize={PAGE_SIZE} label="Users" />
            </>
          )}
        </Match>
      </Switch>
    </section>
  );
}
