/*
 * CSV as API.md's import and export speak it: RFC 4180 (fields separated by commas, records by
 * CRLF or LF; a field in double quotes may hold commas, line breaks and doubled quotes), UTF-8, a
 * header row; a leading byte-order mark is tolerated on input and never written.
 */

/** A CSV text that is not well-formed, with where (1-based physical line). */
export class CsvSyntaxError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`);
  }
}

/** Records of `text`, each a list of fields; stops with CsvSyntaxError at the first malformed one. */
/** More fields than any file of ours has columns: a row of thousands of commas is refused, not kept. */
export const MAX_CSV_FIELDS = 64;

export function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  const length = text.length;
  if (i >= length) return records;
  let record: string[] = [];
  for (;;) {
    let field = '';
    if (text[i] === '"') {
      const openedOn = line;
      i++;
      for (;;) {
        const quote = text.indexOf('"', i);
        if (quote === -1) throw new CsvSyntaxError(openedOn, 'a quoted field is never closed');
        const chunk = text.slice(i, quote);
        for (let at = chunk.indexOf('\n'); at !== -1; at = chunk.indexOf('\n', at + 1)) line++;
        field += chunk;
        i = quote + 1;
        if (text[i] === '"') {
          field += '"';
          i++;
          continue;
        }
        break;
      }
      if (i < length && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r')
        throw new CsvSyntaxError(line, 'a closing quote must end its field (a quote inside a field is written "")');
    } else {
      let end = i;
      while (end < length && text[end] !== ',' && text[end] !== '\n' && text[end] !== '\r') end++;
      field = text.slice(i, end);
      if (field.includes('"'))
        throw new CsvSyntaxError(line, 'a field with a quote must be quoted as a whole (a quote inside is written "")');
      i = end;
    }
    record.push(field);
    if (record.length > MAX_CSV_FIELDS) throw new CsvSyntaxError(line, `a row has more than ${MAX_CSV_FIELDS} fields`);
    if (i >= length) {
      records.push(record);
      return records;
    }
    if (text[i] === ',') {
      i++;
      continue;
    }
    // A record ends: CRLF or LF (a lone CR too).
    i += text[i] === '\r' && text[i + 1] === '\n' ? 2 : 1;
    line++;
    records.push(record);
    record = [];
    if (i >= length) return records;
  }
}

/** One field as CSV: quoted when it holds a comma, a quote, a line break, or space at either end. */
export function csvField(value: string | number | undefined | null): string {
  if (value === undefined || value === null) return '';
  const text = String(value);
  return /[",\r\n]|^\s|\s$/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/**
 * What a spreadsheet would run as a formula (CSV injection): a cell starting with = + - @, a tab
 * or a carriage return. Export writes such a cell with a leading apostrophe, as OWASP advises
 * (spreadsheets show it as text); import takes exactly one such apostrophe off again, so a file
 * exported and imported again gives the same records.
 */
const FORMULA_START = /^[=+\-@\t\r]/;
export const exportCell = <T>(value: T): T | string => (typeof value === 'string' && FORMULA_START.test(value) ? `'${value}` : value);
export const importCell = (value: string) => (value.startsWith("'") && FORMULA_START.test(value.slice(1)) ? value.slice(1) : value);

/** One record as a CSV line, with its CRLF. */
export const csvLine = (fields: readonly (string | number | undefined | null)[]) => `${fields.map(csvField).join(',')}\r\n`;
