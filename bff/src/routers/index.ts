import { router } from '../trpc.js';
import { auditRouter } from './audit.js';
import { authRouter } from './auth.js';
import { customersRouter } from './customers.js';
import { ordersRouter } from './orders.js';
import { suppliersRouter } from './suppliers.js';
import { usersRouter } from './users.js';

export const appRouter = router({
  auth: authRouter,
  customers: customersRouter,
  suppliers: suppliersRouter,
  orders: ordersRouter,
  users: usersRouter,
  audit: auditRouter,
});

export type AppRouter = typeof appRouter;
