import { A } from '@solidjs/router';
import { EmptyState } from '../components/States';

export default function NotFound() {
  return (
    <section class="page">
      <h1>Not found</h1>
      <EmptyState title="There is no page at this address.">
        <A href="/">Back to the orders</A>
      </EmptyState>
    </section>
  );
}
