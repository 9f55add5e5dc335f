import { z } from 'zod';
import { cursor, emailOrEmpty, expectedVersion, limit, objectId, phoneOrEmpty, required, text, timestamp, version } from './rules.js';

/*
 * Customers and suppliers: one shape. PARTY_FIELDS is the one list of what a user writes on a
 * record; the inputs, the record, the services' stores, the dashboard's form, detail page and
 * table, and the CLI's columns are all made from it (docs/changing.md, "Add a field").
 */

export const PARTY_FIELDS = {
  name: { label: 'Name', rule: required(200), optional: false, input: { type: 'text', autocomplete: 'organization' }, inTable: true },
  email: { label: 'Email', rule: emailOrEmpty, optional: true, input: { type: 'email', autocomplete: 'email' }, inTable: true },
  phone: { label: 'Phone', rule: phoneOrEmpty, optional: true, input: { type: 'tel', autocomplete: 'tel' }, inTable: true },
  address: { label: 'Address', rule: text(200), optional: true, input: { type: 'text', autocomplete: 'street-address' }, inTable: true },
} as const;

export type PartyField = keyof typeof PARTY_FIELDS;
export const partyFieldNames = Object.keys(PARTY_FIELDS) as PartyField[];
/** The fields a record may lack; an empty string in an input means none (create) or remove (update). */
export type OptionalPartyField = { [K in PartyField]: (typeof PARTY_FIELDS)[K]['optional'] extends true ? K : never }[PartyField];
export const optionalPartyFields = partyFieldNames.filter((f) => PARTY_FIELDS[f].optional) as OptionalPartyField[];

type Fields = typeof PARTY_FIELDS;
type InputShape = { [K in PartyField]: Fields[K]['optional'] extends true ? z.ZodOptional<Fields[K]['rule']> : Fields[K]['rule'] };
type RecordShape = { [K in PartyField]: Fields[K]['optional'] extends true ? z.ZodOptional<z.ZodString> : z.ZodString };
const each = <T>(make: (field: PartyField) => T) => Object.fromEntries(partyFieldNames.map((f) => [f, make(f)]));

/** What a create names: every field, the optional ones may be left out or empty. */
export const partyFields = z.object(
  each((f) => (PARTY_FIELDS[f].optional ? PARTY_FIELDS[f].rule.optional() : PARTY_FIELDS[f].rule)) as InputShape,
);
/** A form's values: every field as typed, an optional one empty when left out. */
export const partyForm = z.object(each((f) => PARTY_FIELDS[f].rule) as { [K in PartyField]: Fields[K]['rule'] });

/** What an update names: any of the fields; an empty optional one removes it. */
export const partyChanges = partyFields.partial();

export const partyListInput = z.strictObject({
  q: text(200).optional().describe('case-insensitive part of the name'),
  limit: limit.optional(),
  cursor: cursor.optional(),
});
export const partyCreateInput = partyFields.strict();
export const partyUpdateInput = partyChanges.extend({ id: objectId, version: expectedVersion.optional() }).strict();

export const partyRecord = z.object({
  id: z.string(),
  ...(each((f) => (PARTY_FIELDS[f].optional ? z.string().optional() : z.string())) as RecordShape),
  createdAt: timestamp,
  updatedAt: timestamp,
  version,
});
export type PartyRecord = z.infer<typeof partyRecord>;

/** A record's own fields as the services keep them: an optional one is absent rather than empty. */
export type PartyValues = { name: string } & Partial<Record<OptionalPartyField, string>>;
