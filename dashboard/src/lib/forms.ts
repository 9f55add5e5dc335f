import { createSignal } from 'solid-js';
import { errorMessage, fieldError, isConflict, isNotFound } from './errors';
import { toast } from './toast';

/**
 * The error state of a form: one message per field (client validation or the server naming the
 * field), one for the whole form, and whether the last save lost a version race (409 on an update).
 */
export function createFormErrors<F extends string>(fields: readonly F[], what: string, options: { toast?: boolean } = {}) {
  type Errors = Partial<Record<F, string>>;
  const [errors, setErrors] = createSignal<Errors>({});
  const [formError, setFormError] = createSignal<string>();
  const [conflict, setConflict] = createSignal(false);

  return {
    errors,
    formError,
    conflict,
    /** Before a submit: the client-side validation's result, nothing from the last attempt. */
    reset(fieldErrors: Errors = {}) {
      setErrors(() => fieldErrors);
      setFormError();
      setConflict(false);
    },
    /** The server refused: under the field it names, else for the form (and as a toast). */
    fromServer(err: unknown, how: { update?: boolean } = {}) {
      if (how.update && isConflict(err)) {
        setConflict(true);
        setFormError(`Someone else changed this ${what} after you opened it: ${errorMessage(err)}.`);
        return;
      }
      const { field, message } = fieldError(err, fields);
      if (field) {
        setErrors(() => ({ [field]: message }) as Errors);
        return;
      }
      setFormError(message);
      if (options.toast !== false) toast.error(message);
    },
    /** After "reload the latest version": cleared, or why it could not be loaded. */
    reloaded(err?: unknown) {
      setConflict(false);
      setFormError(err === undefined ? undefined : isNotFound(err) ? `This ${what} has been deleted meanwhile.` : errorMessage(err));
    },
  };
}
