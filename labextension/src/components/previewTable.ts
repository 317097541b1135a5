/**
 * What the file list shows of a table's preview (pure, tested): a summary line, the data quality
 * line, one row per column with its type and missing values, and the first rows as text.
 */
import { plural } from '../format';
import type { FilePreview, PreviewCell } from '../types';

export interface IPreviewColumn {
  name: string;
  type: string;
  /** Missing values in the summarised rows; null when the server did not count them. */
  missing: number | null;
  /** `0`, `3 (15%)`, `<0.1%` when tiny, `—` when unknown. */
  missingText: string;
}

export interface IPreviewModel {
  kind: 'table' | 'error';
  /** Why there is no preview (the file could not be read as a table). */
  message: string;
  /** `2 rows · 3 columns`, `about 1,200,000 rows (estimated) · 3 columns`. */
  summary: string;
  /** Missing values and duplicate rows, and what they were counted over. */
  quality: string;
  columns: IPreviewColumn[];
  /** The first rows as display text (`null` when the server left them out). */
  head: string[][] | null;
  headNote: string;
}

/** Longer cells are cut: the preview is for a glance, the file is one click away. */
export const MAX_CELL = 80;

export function count(n: number): string {
  return n.toLocaleString('en-US');
}

/** One cell as text: empty for missing values, `true`/`false`, long text cut with `…`. */
export function formatCell(value: PreviewCell | undefined): string {
  if (value === null || value === undefined) {
    return '';
  }
  const text = String(value);
  return text.length > MAX_CELL ? `${text.slice(0, MAX_CELL - 1)}…` : text;
}

/** How many rows the quality figures cover: all of them, or the sample the server read. */
export function summarisedRows(p: FilePreview): number | null {
  if (p.summary_of === 'all rows') {
    return typeof p.rows === 'number' ? p.rows : null;
  }
  const match = /([\d,]+)/.exec(p.summary_of ?? '');
  return match ? Number(match[1].replace(/,/g, '')) : null;
}

function percent(part: number, whole: number | null): string {
  if (!whole || part === 0) {
    return '';
  }
  const pct = (100 * part) / whole;
  if (pct < 0.1) {
    return ' (<0.1%)';
  }
  return ` (${pct >= 10 ? Math.round(pct) : Number(pct.toFixed(1))}%)`;
}

export function previewModel(p: FilePreview | null | undefined): IPreviewModel | null {
  if (!p) {
    return null;
  }
  const base: IPreviewModel = {
    kind: 'table',
    message: '',
    summary: '',
    quality: '',
    columns: [],
    head: null,
    headNote: ''
  };
  if (p.error || !p.columns) {
    return { ...base, kind: 'error', message: p.error ?? 'no preview' };
  }
  const sample = summarisedRows(p);
  const columns = p.columns.map(c => {
    const missing = p.missing && c.name in p.missing ? p.missing[c.name] : null;
    return {
      name: c.name,
      type: c.type,
      missing,
      missingText: missing === null ? '—' : `${count(missing)}${percent(missing, sample)}`
    };
  });

  const rows =
    typeof p.rows === 'number'
      ? p.rows_are === 'estimated'
        ? `about ${count(p.rows)} rows (estimated)`
        : `${count(p.rows)} ${p.rows === 1 ? 'row' : 'rows'}`
      : 'rows not counted';
  const summary = `${rows} · ${plural(columns.length, 'column')}`;

  const missingTotal = columns.reduce((n, c) => n + (c.missing ?? 0), 0);
  const withMissing = columns.filter(c => (c.missing ?? 0) > 0).length;
  const missingText = missingTotal
    ? `${count(missingTotal)} missing ${missingTotal === 1 ? 'value' : 'values'} in ${plural(withMissing, 'column')}`
    : 'no missing values';
  const dup = p.duplicate_rows ?? 0;
  const dupText = dup ? `${count(dup)} duplicate ${dup === 1 ? 'row' : 'rows'}` : 'no duplicate rows';
  const over = p.summary_of && p.summary_of !== 'all rows' ? ` (in ${p.summary_of})` : '';
  const quality = `${missingText[0].toUpperCase()}${missingText.slice(1)} · ${dupText}${over}`;

  let head: string[][] | null = null;
  let headNote: string;
  if (p.head) {
    head = p.head.map(row => columns.map((_, i) => formatCell(row[i])));
    const all = p.rows_are === 'exact' && p.rows === head.length;
    headNote = head.length === 0 ? 'The table has no rows.' : all ? `All ${plural(head.length, 'row')}` : `First ${plural(head.length, 'row')}`;
  } else {
    headNote = p.head_hidden
      ? 'Rows are not shown here: for data that is not open, only the schema and summary are.'
      : 'No rows in this preview.';
  }
  return { ...base, summary, quality, columns, head, headNote };
}
