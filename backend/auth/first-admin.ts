import type { Logger } from '@pdash/backend-shared/logger';
import { hashPassword, type PasswordVerifier } from './passwords.js';
import type { UserStore } from './store.js';

/**
 * The first admin (API.md): when no enabled admin exists, the account from ADMIN_USERNAME,
 * ADMIN_EMAIL and ADMIN_PASSWORD is made, or, when that username is already taken by an account
 * with that very password, promoted. Idempotent: nothing happens once an admin exists, and
 * replicas starting together make one account (the unique indexes decide).
 */
export async function ensureFirstAdmin(
  store: UserStore,
  admin: { username: string; email: string; password: string },
  verifyPassword: PasswordVerifier,
  log: Logger,
) {
  if (await store.hasOtherEnabledAdmin()) return;
  const existing = await store.findByLogin(admin.username);
  if (existing) {
    // Promoting someone else's account on a name alone would hand it to whoever took the name first.
    if (!(await verifyPassword(existing.passwordHash, admin.password))) {
      log.error({ username: admin.username }, 'ADMIN_USERNAME names an account with another password: no admin made');
      return;
    }
    await store.update(existing, { role: 'admin', disabled: false }, null);
    log.info({ username: admin.username }, 'first admin: existing account promoted');
    return;
  }
  const passwordHash = await hashPassword(admin.password);
  const result = await store.create({ username: admin.username, email: admin.email, passwordHash, role: 'admin' }, { actor: null });
  if ('taken' in result) {
    // Another replica made it meanwhile, or the email belongs to someone else.
    if (!(await store.hasOtherEnabledAdmin())) log.error({ taken: result.taken }, `first admin not made: its ${result.taken} is taken`);
    return;
  }
  log.info({ username: admin.username }, 'first admin made');
}
