import { createUniqueId, type JSX, Show, splitProps } from 'solid-js';

type InputProps = JSX.InputHTMLAttributes<HTMLInputElement>;

/** A labelled input with its error under it (announced, and tied to the input by aria-describedby). */
export function Field(
  props: InputProps & { label: string; error?: string | undefined; hint?: string; value: string; onValue: (value: string) => void },
) {
  const [own, input] = splitProps(props, ['label', 'error', 'hint', 'value', 'onValue', 'id']);
  const id = own.id ?? createUniqueId();
  const errorId = `${id}-error`;
  const hintId = `${id}-hint`;
  const describedBy = () => [own.error ? errorId : '', own.hint ? hintId : ''].filter(Boolean).join(' ') || undefined;
  return (
    <div class="field" classList={{ invalid: !!own.error }}>
      <label for={id}>{own.label}</label>
      <input
        {...input}
        id={id}
        value={own.value}
        onInput={(event) => own.onValue(event.currentTarget.value)}
        aria-invalid={own.error ? 'true' : undefined}
        aria-describedby={describedBy()}
      />
      <Show when={own.hint}>
        <p class="hint" id={hintId}>
          {own.hint}
        </p>
      </Show>
      <Show when={own.error}>
        <p class="error" id={errorId} role="alert">
          {own.error}
        </p>
      </Show>
    </div>
  );
}

/** A form-level problem (the server's message when it names no field). */
export function FormError(props: { message: string | undefined; children?: JSX.Element }) {
  return (
    <Show when={props.message}>
      <div class="form-error" role="alert">
        <p>{props.message}</p>
        {props.children}
      </div>
    </Show>
  );
}
