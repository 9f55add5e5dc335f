import { z } from 'zod';
import { cursor, limit, objectId, timestamp } from './rules.js';

/** What the history records (API.md "History (audit)"). */
export const AUDIT_ACTIONS = ['created', 'updated', 'deleted', 'imported', 'invited', 'signed_up'] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];
export const AUDIT_ENTITIES = ['customer', 'supplier', 'order', 'user'] as const;
export type AuditEntity = (typeof AUDIT_ENTITIES)[number];

/** A value before or after a change: what records hold (text, numbers, flags). */
export type AuditValue = string | number | boolean;
export type AuditChanges = Record<string, { from?: AuditValue; to?: AuditValue }>;

const auditValue = z.union([z.string(), z.number(), z.boolean()]);
export const auditEntry = z.object({
  id: z.string(),
  at: timestamp,
  actor: z.object({ id: z.string(), username: z.string() }).nullable().describe('null when no signed-in user made the change'),
  action: z.enum(AUDIT_ACTIONS),
  entity: z.enum(AUDIT_ENTITIES),
  entityId: z.string(),
  changes: z.record(z.string(), z.object({ from: auditValue.optional(), to: auditValue.optional() })),
});
export type AuditEntryRecord = z.infer<typeof auditEntry>;

export const auditListInput = z.strictObject({
  entity: z.enum(AUDIT_ENTITIES, { message: `must be one of ${AUDIT_ENTITIES.join(', ')}` }).optional(),
  entityId: z
    .string()
    .max(24, 'must be a 24-character hex id')
    .regex(/^[0-9a-f]{24}$/i, 'must be a 24-character hex id')
    .optional(),
  actorId: objectId.optional(),
  limit: limit.optional(),
  cursor: cursor.optional(),
});
export const auditListOutput = z.object({ items: z.array(auditEntry), nextCursor: z.string().nullable() });

/**
 * The changes of an update: the fields whose value differs, each with what it was and what it is
 * (a field that was not set has no `from`; one removed has no `to`).
 */
export function diffChanges(before: object, after: object, fields: readonly string[]): AuditChanges {
  const changes: AuditChanges = {};
  for (const field of fields) {
    const from = (before as Record<string, unknown>)[field] as AuditValue | undefined;
    const to = (after as Record<string, unknown>)[field] as AuditValue | undefined;
    if (from === to) continue;
    changes[field] = { ...(from === undefined ? {} : { from }), ...(to === undefined ? {} : { to }) };
  }
  return changes;
}

/** The changes of a create (`to` each set field) or of a delete (`from` each). */
export function fieldsAs(side: 'from' | 'to', values: object, fields: readonly string[]): AuditChanges {
  const changes: AuditChanges = {};
  for (const field of fields) {
    const value = (values as Record<string, unknown>)[field] as AuditValue | undefined;
    if (value !== undefined) changes[field] = { [side]: value };
  }
  return changes;
}
