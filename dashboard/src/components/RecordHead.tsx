import { type JSX, Show } from 'solid-js';
import { useCanEdit } from '../lib/access';

/**
 * A record page's heading with its Edit and Delete buttons, which only editors and admins see
 * (the server refuses the rest anyway).
 */
export function RecordHead(props: { id: string; title: JSX.Element; onEdit: () => void; onDelete: () => void }) {
  const canEdit = useCanEdit();
  return (
    <div class="page-head">
      <h1 id={props.id}>{props.title}</h1>
      <Show when={canEdit()}>
        <div class="buttons">
          <button type="button" onClick={() => props.onEdit()}>
            Edit
          </button>
          <button type="button" class="danger" onClick={() => props.onDelete()}>
            Delete
          </button>
        </div>
      </Show>
    </div>
  );
}
