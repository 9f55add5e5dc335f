import { A, useNavigate, useSearchParams } from '@solidjs/router';
import { useMutation, useQueryClient } from '@tanstack/solid-query';
import { createSignal, Show } from 'solid-js';
import { Field, FormError } from '../components/Field';
import { fieldError } from '../lib/errors';
import { createFormErrors } from '../lib/forms';
import { queries } from '../lib/queries';
import { signupForm, validate } from '../lib/schemas';
import { safeNext } from '../lib/session';
import { type RouterInputs, trpc } from '../lib/trpc';

type SignupInput = RouterInputs['auth']['signup'];
const FIELDS = ['username', 'email', 'password'] as const;

/** The server's refusal about the invitation (missing, malformed, used or expired), in plain words. */
function invitationProblem(err: unknown, invited: boolean): string | undefined {
  if (fieldError(err, ['inviteCode']).field !== 'inviteCode') return undefined;
  return invited
    ? 'Sign-up needs an invitation, and this one is not valid: it may be mistyped, already used or expired. Ask an admin for a new invitation link.'
    : 'Sign-up needs an invitation. Ask an admin for an invitation link and open it to sign up.';
}

/**
 * Creates the account and logs straight in (the login sets the session cookie). An invitation link
 * (`/signup?invite=<code>`, made by users.invite) brings its code along; without one, sign-up works
 * only where the server allows it (SIGNUP_MODE=open).
 */
export default function Signup() {
  const [params] = useSearchParams<{ next?: string; invite?: string }>();
  const next = () => safeNext(params.next);
  const invite = () => params.invite?.trim() || undefined;
  const [inviteError, setInviteError] = createSignal<string>();
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
    onError: (err) => {
      const problem = invitationProblem(err, !!invite());
      if (problem) setInviteError(problem);
      else form.fromServer(err);
    },
  }));

  const submit = (event: SubmitEvent) => {
    event.preventDefault();
    const result = validate(signupForm, values());
    form.reset(result.errors);
    setInviteError();
    const inviteCode = invite();
    if (result.data) signup.mutate(inviteCode ? { ...result.data, inviteCode } : result.data);
  };

  const set = (field: keyof SignupInput) => (value: string) => setValues((v) => ({ ...v, [field]: value }));

  return (
    <main class="auth-page" id="main">
      <form class="card auth-card" onSubmit={submit} noValidate aria-labelledby="signup-title">
        <h1 id="signup-title">Create your pdash account</h1>
        <Show when={invite()}>
          <p class="muted" data-testid="invite-notice">
            You were invited: your account gets the role the invitation names.
          </p>
        </Show>
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
        <FormError message={inviteError() ?? form.formError()} />
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
