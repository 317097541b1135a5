/**
 * The "Cite" section's entries, made from the server's citation answer (pure, tested): each
 * with the text the copy button copies and, for the machine-readable forms, a file to save.
 */
import type { Citation } from '../types';

export type CiteKey = 'text' | 'bibtex' | 'datacite' | 'availability' | 'rights';

export interface ICiteEntry {
  key: CiteKey;
  label: string;
  hint: string;
  /** Exactly what the copy button puts on the clipboard. */
  text: string;
  /** Shown in a monospace block (BibTeX, JSON) rather than as prose. */
  code: boolean;
  download?: { filename: string; type: string; label: string };
  /** What is still missing for the statement to be complete (the server's own words). */
  incomplete: string | null;
}

/**
 * The server marks an incomplete rights statement with `[Incomplete: add …]`; the statement stays
 * as it is (so a copy carries the marker), and the section says what to add.
 */
export function incompleteNote(statement: string): string | null {
  const match = /\[Incomplete: ([^\]]+?)\.?\]/.exec(statement);
  return match ? `${match[1][0].toUpperCase()}${match[1].slice(1)}.` : null;
}

/** A file name from the dataset id: `ds-1a2b3c-datacite.json`, `ds-1a2b3c.bib`. */
function filename(datasetId: string, suffix: string): string {
  return `${datasetId.replace(/[^\w.-]+/g, '_')}${suffix}`;
}

export function citeEntries(c: Citation, datasetId: string): ICiteEntry[] {
  const datacite = `${JSON.stringify(c.datacite, null, 2)}\n`;
  return [
    {
      key: 'text',
      label: 'Citation',
      hint: 'For a reference list (APA-like).',
      text: c.text,
      code: false,
      incomplete: null
    },
    {
      key: 'bibtex',
      label: 'BibTeX',
      hint: 'For LaTeX and reference managers.',
      text: c.bibtex,
      code: true,
      download: { filename: filename(datasetId, '.bib'), type: 'application/x-bibtex', label: 'Save as .bib' },
      incomplete: null
    },
    {
      key: 'datacite',
      label: 'DataCite metadata',
      hint: 'DataCite metadata schema 4.5 (JSON), for a repository or DOI registration.',
      text: datacite,
      code: true,
      download: {
        filename: filename(datasetId, '-datacite.json'),
        type: 'application/vnd.datacite.datacite+json',
        label: 'Save DataCite JSON'
      },
      incomplete: null
    },
    {
      key: 'availability',
      label: 'Data availability statement',
      hint: "For the manuscript's data availability section; it follows the access level.",
      text: c.availability_statement,
      code: false,
      incomplete: null
    },
    {
      key: 'rights',
      label: 'Data rights statement',
      hint: 'What the authors declare about the data, and who agreed.',
      text: c.rights_statement,
      code: false,
      incomplete: incompleteNote(c.rights_statement)
    }
  ];
}
