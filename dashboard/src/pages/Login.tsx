import { A, useNavigate, useSearchParams } from '@solidjs/router';
import { useMutation, useQueryClient } from '@tanstack/solid-query';
import { createSignal } from 'solid-js';
import { Field, FormError } from '../components/Field';
import { createFormErrors } from '../lib/forms';
import { queries } from '../lib/queries';
import { loginForm, validate } from '../lib/schemas';
import { safeNext } from '../lib/session';
import { type RouterInputs, trpc } from '../lib/trpc';

type LoginInput = RouterInputs['auth']['login'];

export default function Login() {
  const [params] = useSearchParams<{ next?: string }>();
  const next = () => safeNext(params.next);
  const navigate = useNavigate();
  const client = useQueryClient();
  const [values, setValues] = createSignal({ username: '', password: '' });
  const form = createFormErrors(['username', 'password'] as const, 'session', { toast: false });

  const login = useMutation(() => ({
    // The answer carries the token too (for scripts); the page keeps only the user: its session is the cookie.
    mutationFn: async (input: LoginInput) => ({ user: (await trpc.auth.login.mutate(input)).user }),
    // Here a 401 is a wrong password, not a lost session.
    meta: { redirectOn401: false },
    onSuccess: ({ user }) => {
      // A new session: nothing cached for someone else may show.
      client.clear();
      client.setQueryData(queries.session().queryKey, { user });
      navigate(next(), { replace: true });
    },
    onError: (err) => form.fromServer(err),
  }));

  const submit = (event: SubmitEvent) => {
    event.preventDefault();
    const result = validate(loginForm, values());
    form.reset(result.errors);
    if (result.data) login.mutate(result.data);
  };

  const set = (field: keyof LoginInput) => (value: string) => setValues((v) => ({ ...v, [field]: value }));

  return (
    <main class="auth-page" id="main">
      <form class="card auth-card" onSubmit={submit} noValidate aria-labelledby="login-title">
        <h1 id="login-title">Log in to pdash</h1>
        <Field
          label="Username or email"
          name="username"
          autocomplete="username"
          value={values().username}
          onValue={set('username')}
          error={form.errors().username}
          data-autofocus
        />
        <Field
          label="Password"
          name="password"
          type="password"
          autocomplete="current-password"
          value={values().password}
          onValue={set('password')}
          error={form.errors().password}
        />
        <FormError message={form.formError()} />
        <button type="submit" class="primary" disabled={login.isPending}>
          {login.isPending ? 'Logging in…' : 'Log in'}
        </button>
        <p class="switch">
          No account yet? <A href={`/signup${next() === '/' ? '' : `?next=${encodeURIComponent(next())}`}`}>Sign up</A>
        </p>
      </form>
    </main>
  );
}
