import { A, useNavigate, useSearchParams } from '@solidjs/router';
import { useMutation, useQueryClient } from '@tanstack/solid-query';
import { createSignal } from 'solid-js';
import { Field, FormError } from '../components/Field';
import { createFormErrors } from '../lib/forms';
import { queries } from '../lib/queries';
import { signupForm, validate } from '../lib/schemas';
import { safeNext } from '../lib/session';
import { type RouterInputs, trpc } from '../lib/trpc';

type SignupInput = RouterInputs['auth']['signup'];
const FIELDS = ['username', 'email', 'password'] as const;

/** Creates the account and logs straight in (the login sets the session cookie). */
export default function Signup() {
  const [params] = useSearchParams<{ next?: string }>();
  const next = () => safeNext(params.next);
  const navigate = useNavigate();
  const client = useQueryClient();
  const [values, setValues] = createSignal({ username: '', email: '', password: '' });
  const form = createFormErrors(FIELDS, 'account', { toast: false });

  const signup = useMutation(() => ({
    mutationFn: async (input: SignupInput) => {
      await trpc.auth.signup.mutate(input);
      // Only the user: the session is the httpOnly cookie that the login sets.
      return { user: (await trpc.auth.login.mutate({ username: input.username, password: input.password })).user };
    },
    meta: { redirectOn401: false },
    onSuccess: ({ user }) => {
      client.clear();
      client.setQueryData(queries.session().queryKey, { user });
      navigate(next(), { replace: true });
    },
    onError: (err) => form.fromServer(err),
  }));

  const submit = (event: SubmitEvent) => {
    event.preventDefault();
    const result = validate(signupForm, values());
    form.reset(result.errors);
    if (result.data) signup.mutate(result.data);
  };

  const set = (field: keyof SignupInput) => (value: string) => setValues((v) => ({ ...v, [field]: value }));

  return (
    <main class="auth-page" id="main">
      <form class="card auth-card" onSubmit={submit} noValidate aria-labelledby="signup-title">
        <h1 id="signup-title">Create your pdash account</h1>
        <Field
          label="Username"
          name="username"
          autocomplete="username"
          hint="3 to 32 letters, digits, _ . or -"
          value={values().username}
          onValue={set('username')}
          error={form.errors().username}
        />
        <Field
          label="Email"
          name="email"
          type="email"
          autocomplete="email"
          value={values().email}
          onValue={set('email')}
          error={form.errors().email}
        />
        <Field
          label="Password"
          name="password"
          type="password"
          autocomplete="new-password"
          hint="At least 8 characters"
          value={values().password}
          onValue={set('password')}
          error={form.errors().password}
        />
        <FormError message={form.formError()} />
        <button type="submit" class="primary" disabled={signup.isPending}>
          {signup.isPending ? 'Creating account…' : 'Sign up'}
        </button>
        <p class="switch">
          Have an account? <A href={`/login${next() === '/' ? '' : `?next=${encodeURIComponent(next())}`}`}>Log in</A>
        </p>
      </form>
    </main>
  );
}
