import { Route, Router } from '@solidjs/router';
import { QueryClientProvider } from '@tanstack/solid-query';
import { lazy } from 'solid-js';
import { Protected, Shell } from './components/Layout';
import { firstOrdersPage } from './lib/queries';
import { createQueryClient } from './lib/query-client';

// One chunk per page: the first page loads only its own code.
const Login = lazy(() => import('./pages/Login'));
const Signup = lazy(() => import('./pages/Signup'));
const Orders = lazy(() => import('./pages/Orders'));
const Parties = lazy(() => import('./pages/Parties'));
const PartyDetail = lazy(() => import('./pages/PartyDetail'));
const OrderDetail = lazy(() => import('./pages/OrderDetail'));
const Users = lazy(() => import('./pages/Users'));
const Stats = lazy(() => import('./pages/Stats'));
const NotFound = lazy(() => import('./pages/NotFound'));

export function App() {
  const client = createQueryClient();
  return (
    <QueryClientProvider client={client}>
      <Router root={Shell}>
        <Route path="/login" component={Login} />
        <Route path="/signup" component={Signup} />
        <Route path="/" component={Protected}>
          {/* The first page of orders is fetched while the page's code loads, not after. */}
          <Route path="/" component={Orders} preload={() => void client.prefetchQuery(firstOrdersPage())} />
          <Route path="/orders/:id" component={OrderDetail} />
          <Route path="/customers" component={() => <Parties kind="customers" />} />
          <Route path="/customers/:id" component={() => <PartyDetail kind="customers" />} />
          <Route path="/suppliers" component={() => <Parties kind="suppliers" />} />
          <Route path="/suppliers/:id" component={() => <PartyDetail kind="suppliers" />} />
          <Route path="/stats" component={Stats} />
          <Route path="/users" component={Users} />
          <Route path="*" component={NotFound} />
        </Route>
      </Router>
    </QueryClientProvider>
  );
}
