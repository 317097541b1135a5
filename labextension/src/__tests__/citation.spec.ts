import { citeEntries, incompleteNote } from '../components/citation';
import { citation } from './fixtures';

describe('the Cite section', () => {
  it('lists the citation, BibTeX, DataCite, and both statements, in that order', () => {
    const entries = citeEntries(citation(), 'ds-1a2b3c4d');
    expect(entries.map(e => e.label)).toEqual([
      'Citation',
      'BibTeX',
      'DataCite metadata',
      'Data availability statement',
      'Data rights statement'
    ]);
    // What is copied is exactly what the server wrote.
    expect(entries[0].text).toBe(citation().text);
    expect(entries[3].text).toBe(citation().availability_statement);
  });

  it('offers BibTeX and DataCite JSON as files named after the dataset', () => {
    const [, bib, datacite] = citeEntries(citation(), 'ds-1a2b3c4d');
    expect(bib.download).toEqual({ filename: 'ds-1a2b3c4d.bib', type: 'application/x-bibtex', label: 'Save as .bib' });
    expect(datacite.download?.filename).toBe('ds-1a2b3c4d-datacite.json');
    expect(JSON.parse(datacite.text)).toEqual(citation().datacite);
    expect(datacite.text).toContain('\n  "titles"'); // indented, to read and to diff
  });

  it("says what an incomplete rights statement lacks, in the server's words", () => {
    const rights = citeEntries(citation(), 'ds-1')[4];
    expect(rights.incomplete).toBe('Add the missing declarations and the principal investigator, first author.');
    expect(rights.text).toContain('[Incomplete:'); // the copy keeps the marker
    expect(incompleteNote('Dataset: “x”. Agreed by: Ada (first author).')).toBeNull();
  });
});
