/**
 * The file list in a DOM: a table's preview opens under its file (columns, missing values, first
 * rows); other files offer none, and a table that could not be read says why.
 */
import * as React from 'react';

import { DataShareClient } from '../api';
import { FilesSection } from '../components/FilesSection';
import { button, click, IDom, mount } from './dom';
import { detail } from './fixtures';

let dom: IDom;
beforeEach(() => (dom = mount()));
afterEach(() => dom.unmount());

describe('file previews', () => {
  it('opens a table preview under its file: columns, missing values, first rows', async () => {
    await dom.render(<FilesSection client={new DataShareClient()} detail={detail()} />);
    const toggle = button(dom.container, 'Preview of table.csv');
    expect(toggle.textContent).toBe('Preview · 2 rows · 2 columns');
    expect(toggle.getAttribute('aria-expanded')).toBe('false');
    expect(dom.container.querySelector('[data-testid="datashare-preview"]')).toBeNull();

    await click(toggle);
    expect(toggle.getAttribute('aria-expanded')).toBe('true');
    const preview = dom.container.querySelector('[data-testid="datashare-preview"]')!;
    expect(preview.id).toBe(toggle.getAttribute('aria-controls'));
    const columns = [...preview.querySelectorAll('table[aria-label="Columns of table.csv"] tbody tr')].map(tr =>
      [...tr.querySelectorAll('td')].map(td => td.textContent)
    );
    expect(columns).toEqual([
      ['site', 'object', '0'],
      ['depth_m', 'float64', '1 (50%)']
    ]);
    const rows = [...preview.querySelectorAll('[data-testid="datashare-preview-rows"] tbody tr')].map(tr =>
      [...tr.querySelectorAll('td')].map(td => td.textContent)
    );
    expect(rows).toEqual([
      ['A', '1.5'],
      ['B', '']
    ]);
    expect(preview.querySelector('[data-testid="datashare-preview-quality"]')?.textContent).toBe(
      '1 missing value in 1 column · no duplicate rows'
    );
  });

  it('offers no preview for files that are not tables, and says why a table has none', async () => {
    const d = detail();
    d.files[1] = { ...d.files[1], path: 'broken.csv', preview: { error: 'no preview: the file could not be read as a table (EOF)' } };
    await dom.render(<FilesSection client={new DataShareClient()} detail={d} />);
    expect(dom.container.querySelectorAll('.jp-DataShare-previewToggle')).toHaveLength(2);
    await click(button(dom.container, 'Preview of broken.csv'));
    expect(dom.container.querySelector('.jp-DataShare-previewError')?.textContent).toContain('could not be read as a table');

    await dom.render(<FilesSection client={new DataShareClient()} detail={{ ...d, files: [detail().files[1]] }} />);
    expect(dom.container.querySelector('.jp-DataShare-previewToggle')).toBeNull();
  });
});
