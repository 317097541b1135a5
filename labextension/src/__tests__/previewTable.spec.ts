import { formatCell, MAX_CELL, previewModel, summarisedRows } from '../components/previewTable';
import type { FilePreview } from '../types';

const small: FilePreview = {
  columns: [
    { name: 'site', type: 'object' },
    { name: 'depth_m', type: 'float64' },
    { name: 'ok', type: 'bool' }
  ],
  rows: 2,
  rows_are: 'exact',
  summary_of: 'all rows',
  missing: { site: 0, depth_m: 1, ok: 0 },
  duplicate_rows: 0,
  head: [
    ['A', 1.5, true],
    ['B', null, false]
  ]
};

describe('table previews', () => {
  it('summarises a small table: rows, columns, missing values per column, all rows shown', () => {
    const m = previewModel(small)!;
    expect(m.kind).toBe('table');
    expect(m.summary).toBe('2 rows · 3 columns');
    expect(m.quality).toBe('1 missing value in 1 column · no duplicate rows');
    expect(m.columns.map(c => [c.name, c.type, c.missingText])).toEqual([
      ['site', 'object', '0'],
      ['depth_m', 'float64', '1 (50%)'],
      ['ok', 'bool', '0']
    ]);
    expect(m.head).toEqual([
      ['A', '1.5', 'true'],
      ['B', '', 'false']
    ]);
    expect(m.headNote).toBe('All 2 rows');
  });

  it('says when the row count is an estimate and the summary covers a sample', () => {
    const big: FilePreview = {
      ...small,
      rows: 1234567,
      rows_are: 'estimated',
      summary_of: 'the first 10,000 rows',
      missing: { site: 3, depth_m: 2500, ok: 0 },
      duplicate_rows: 12,
      head: small.head
    };
    expect(summarisedRows(big)).toBe(10000);
    const m = previewModel(big)!;
    expect(m.summary).toBe('about 1,234,567 rows (estimated) · 3 columns');
    expect(m.quality).toBe('2,503 missing values in 2 columns · 12 duplicate rows (in the first 10,000 rows)');
    expect(m.columns.map(c => c.missingText)).toEqual(['3 (<0.1%)', '2,500 (25%)', '0']);
    expect(m.headNote).toBe('First 2 rows');
  });

  it('shows the reason when a file could not be read as a table', () => {
    const m = previewModel({ error: 'no preview: the file could not be read as a table (EOF inside string)' })!;
    expect(m.kind).toBe('error');
    expect(m.message).toContain('could not be read as a table');
  });

  it('has nothing to show for files that are not tables', () => {
    expect(previewModel(null)).toBeNull();
    expect(previewModel(undefined)).toBeNull();
  });

  it('explains rows left out for data that is not open', () => {
    const { head: _head, ...schemaOnly } = small;
    const m = previewModel({ ...schemaOnly, head_hidden: true })!;
    expect(m.head).toBeNull();
    expect(m.headNote).toMatch(/only the schema and summary/);
  });

  it('cuts long cells and shows missing ones empty', () => {
    expect(formatCell(null)).toBe('');
    expect(formatCell(0)).toBe('0');
    const long = formatCell('x'.repeat(500));
    expect(long).toHaveLength(MAX_CELL);
    expect(long.endsWith('…')).toBe(true);
  });
});
