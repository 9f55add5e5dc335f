import { router } from '../trpc.js';
import { authRouter } from './auth.js';
import { customersRouter } from './customers.js';
import { ordersRouter } from './orders.js';
import { suppliersRouter } from './suppliers.js';

export const appRouter = router({
  auth: authRouter,
  customers: customersRouter,
  suppliers: suppliersRouter,
  orders: ordersRouter,
});

export type AppRouter = typeof appRouter;
