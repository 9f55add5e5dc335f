import { keepPreviousData, useQuery } from '@tanstack/solid-query';
import { createEffect, createSignal, createUniqueId, For, on, onCleanup, Show } from 'solid-js';
import { queries } from '../lib/queries';
import type { PartyKind } from '../lib/trpc';

export interface Picked {
  id: string;
  name: string;
}

const SEARCH_DEBOUNCE_MS = 200;

/**
 * A searchable picker of customers or suppliers (ARIA combobox with a listbox): type (or click, or
 * Down) to search by name on the server, Up/Down to move, Enter to choose, Escape to close the list.
 */
export function Picker(props: {
  kind: PartyKind;
  label: string;
  value: Picked | null;
  onChange: (value: Picked | null) => void;
  error?: string | undefined;
  placeholder?: string;
  clearable?: boolean;
}) {
  const id = createUniqueId();
  const listId = `${id}-list`;
  const [text, setText] = createSignal(props.value?.name ?? '');
  const [search, setSearch] = createSignal('');
  const [open, setOpen] = createSignal(false);
  const [active, setActive] = createSignal(0);

  // The shown text follows the chosen value when it changes from outside (a reset, a reload).
  createEffect(
    on(
      () => props.value,
      (value) => setText(value?.name ?? ''),
      { defer: true },
    ),
  );

  let debounce: ReturnType<typeof setTimeout> | undefined;
  onCleanup(() => clearTimeout(debounce));
  const onInput = (value: string) => {
    setText(value);
    setOpen(true);
    setActive(0);
    if (props.value) props.onChange(null);
    clearTimeout(debounce);
    debounce = setTimeout(() => setSearch(value.trim()), SEARCH_DEBOUNCE_MS);
  };

  const results = useQuery(() => ({
    ...queries.parties(props.kind, { q: search() || undefined, limit: 8 }),
    enabled: open(),
    placeholderData: keepPreviousData,
  }));
  // Read only once loaded: reading `data` earlier would suspend the form around the picker.
  const options = () => (results.status === 'success' ? results.data.items : []);

  const choose = (party: Picked) => {
    props.onChange({ id: party.id, name: party.name });
    setText(party.name);
    setOpen(false);
  };

  const onKeyDown = (event: KeyboardEvent) => {
    const count = options().length;
    if (event.key === 'ArrowDown') {
      event.preventDefault();
      if (!open()) setOpen(true);
      else if (count) setActive((i) => (i + 1) % count);
    } else if (event.key === 'ArrowUp') {
      event.preventDefault();
      if (count) setActive((i) => (i - 1 + count) % count);
    } else if (event.key === 'Enter' && open()) {
      const party = options()[active()];
      if (party) {
        event.preventDefault();
        choose(party);
      }
    } else if (event.key === 'Escape' && open()) {
      // Closes the list only, not a dialog around it.
      event.preventDefault();
      setOpen(false);
    }
  };

  const optionId = (index: number) => `${id}-option-${index}`;

  return (
    <div class="field picker" classList={{ invalid: !!props.error }}>
      <label for={id}>{props.label}</label>
      <div class="picker-control">
        <input
          id={id}
          type="text"
          role="combobox"
          autocomplete="off"
          aria-autocomplete="list"
          aria-expanded={open() ? 'true' : 'false'}
          aria-controls={listId}
          aria-activedescendant={open() && options().length ? optionId(active()) : undefined}
          aria-invalid={props.error ? 'true' : undefined}
          aria-describedby={props.error ? `${id}-error` : undefined}
          placeholder={props.placeholder ?? `Search ${props.kind}…`}
          value={text()}
          onInput={(event) => onInput(event.currentTarget.value)}
          onClick={() => setOpen(true)}
          onBlur={() => {
            setOpen(false);
            if (!props.value) setText('');
          }}
          // Native, not delegated: it must see Escape before the dialog around it does.
          on:keydown={onKeyDown}
        />
        <Show when={props.clearable && (props.value || text())}>
          <button
            type="button"
            class="icon-button"
            aria-label={`Clear ${props.label.toLowerCase()}`}
            onClick={() => {
              setText('');
              setSearch('');
              props.onChange(null);
            }}
          >
            ×
          </button>
        </Show>
      </div>
      <div id={listId} role="listbox" aria-label={props.label} class="picker-list" hidden={!open()}>
        <For each={options()} fallback={<div class="picker-empty">{results.isFetching ? 'Searching…' : 'No matches'}</div>}>
          {(party, index) => (
            <div
              id={optionId(index())}
              role="option"
              tabIndex={-1}
              aria-selected={index() === active() ? 'true' : 'false'}
              classList={{ active: index() === active() }}
              // Before the input's blur, so the choice is not lost.
              onMouseDown={(event) => {
                event.preventDefault();
                choose(party);
              }}
            >
              {party.name}
            </div>
          )}
        </For>
      </div>
      <Show when={props.error}>
        <p class="error" id={`${id}-error`} role="alert">
          {props.error}
        </p>
      </Show>
    </div>
  );
}
