import { type Role, roleAllows } from '@pdash/contracts';
import { createContext, useContext } from 'solid-js';
import type { User } from './trpc';

/*
 * Who is signed in, for every page under the Protected layout (which asks auth.session first and
 * provides the answer here). The server decides what a role may do (403 beyond it); the pages only
 * hide the controls it would refuse.
 */

/** The signed-in user: undefined while unknown (and outside the signed-in layout). */
export const UserContext = createContext<() => User | undefined>(() => undefined);

export const useUser = () => useContext(UserContext);

/** Whether the signed-in user's role allows what `needed` may do; false while nobody is known. */
export function useAllows(needed: Role) {
  const user = useUser();
  return () => {
    const role = user()?.role;
    return role !== undefined && roleAllows(role, needed);
  };
}

/** May create, edit and delete customers, suppliers and orders (editors and admins). */
export const useCanEdit = () => useAllows('editor');
