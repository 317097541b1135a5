/**
 * The words of the form: licences, access levels, committee rules, data use (DUO) codes and
 * audit actions, each with the one line a researcher chooses by. They mirror the server's
 * lists (`core/metadata.py`, `core/policy.py`, `core/duo.py`); the server stays the judge.
 */
import type { Level } from './types';

export interface IChoice<T extends string = string> {
  id: T;
  name: string;
  summary: string;
}

export const DEFAULT_LICENCE = 'CC-BY-4.0';
export const CUSTOM_LICENCE = 'custom';

export const LICENCES: IChoice[] = [
  {
    id: 'CC0-1.0',
    name: 'CC0 1.0 (public domain)',
    summary:
      'No rights reserved: anyone may reuse the data for any purpose without attribution.'
  },
  {
    id: 'CC-BY-4.0',
    name: 'CC BY 4.0 (attribution)',
    summary:
      'Anyone may reuse the data, commercially too, if they credit you.'
  },
  {
    id: 'CC-BY-NC-4.0',
    name: 'CC BY-NC 4.0 (non-commercial)',
    summary: 'Reuse with credit, for non-commercial purposes only.'
  },
  {
    id: 'CC-BY-NC-ND-4.0',
    name: 'CC BY-NC-ND 4.0 (no derivatives)',
    summary:
      'Share unchanged copies with credit, non-commercially; no adapted versions.'
  },
  {
    id: CUSTOM_LICENCE,
    name: 'Custom licence',
    summary:
      'Your own terms: give an identifier (an SPDX id if there is one) and the full licence text.'
  }
];

export const LEVELS: IChoice<Level>[] = [
  {
    id: 'open',
    name: 'Open',
    summary: 'Anyone can read the description and download the files.'
  },
  {
    id: 'embargoed',
    name: 'Embargoed',
    summary:
      'The description is public; the files stay closed (except to you and review-link holders) until the embargo date, then the level you choose applies by itself.'
  },
  {
    id: 'reviewer-only',
    name: 'Reviewer-only',
    summary:
      'Nothing is public: only holders of a private review link (editors, peer reviewers) can see the dataset.'
  },
  {
    id: 'restricted',
    name: 'Restricted',
    summary:
      'The description is public; the files go only to people a data access committee approves, for the time it grants.'
  }
];

export const AFTER_EMBARGO: IChoice<Level>[] = [
  { id: 'open', name: 'Open', summary: 'Anyone can download the files.' },
  {
    id: 'restricted',
    name: 'Restricted',
    summary: 'Files go to people the committee approves.'
  },
  {
    id: 'reviewer-only',
    name: 'Reviewer-only',
    summary: 'Only review-link holders keep access.'
  }
];

export function levelName(level: string | null | undefined): string {
  return LEVELS.find(l => l.id === level)?.name ?? String(level ?? '');
}

export const RULES: IChoice<'veto' | 'majority'>[] = [
  {
    id: 'veto',
    name: 'Veto',
    summary:
      'Approved once enough members approve; a single denial rejects the request.'
  },
  {
    id: 'majority',
    name: 'Majority',
    summary:
      'Approved when the approvals reach the required number and outnumber the denials.'
  }
];

/** GA4GH Data Use Ontology: primary codes (at most one per dataset). */
export const DUO_PRIMARY: IChoice[] = [
  { id: 'GRU', name: 'GRU', summary: 'General research use: any research purpose.' },
  { id: 'HMB', name: 'HMB', summary: 'Health, medical or biomedical research only.' },
  {
    id: 'DS',
    name: 'DS',
    summary:
      'Disease-specific research only (give the disease term, e.g. MONDO:0005148).'
  },
  { id: 'POA', name: 'POA', summary: 'Population origins or ancestry research only.' },
  { id: 'NRES', name: 'NRES', summary: 'No restriction on use.' }
];

/** GA4GH Data Use Ontology: modifiers (any number). */
export const DUO_MODIFIERS: IChoice[] = [
  { id: 'NPU', name: 'NPU', summary: 'Not-for-profit use only.' },
  { id: 'NCU', name: 'NCU', summary: 'Non-commercial use only.' },
  { id: 'IRB', name: 'IRB', summary: 'Ethics (IRB/REC) approval required.' },
  { id: 'PUB', name: 'PUB', summary: 'Results must be published.' },
  { id: 'COL', name: 'COL', summary: 'Collaboration with the study team required.' },
  { id: 'GSO', name: 'GSO', summary: 'Genetic studies only.' },
  { id: 'NPOA', name: 'NPOA', summary: 'No population origins or ancestry research.' },
  { id: 'MOR', name: 'MOR', summary: 'Publication moratorium.' },
  { id: 'RTN', name: 'RTN', summary: 'Derived data must be returned to the resource.' }
];

/** Build the `use_conditions` list from the form's choices. */
export function useConditions(
  primary: string,
  diseaseTerm: string,
  modifiers: string[]
): string[] {
  const out: string[] = [];
  if (primary === 'DS') {
    const term = diseaseTerm.trim();
    out.push(term ? `DS:${term.replace(/^DS:/i, '')}` : 'DS');
  } else if (primary) {
    out.push(primary);
  }
  for (const m of modifiers) {
    if (!out.includes(m)) {
      out.push(m);
    }
  }
  return out;
}

/** Audit actions that read data: what the chart of accesses counts. */
export const ACCESS_ACTIONS = ['file.downloaded', 'grant.used', 'dataset.viewed'];

/** Every action the server writes, for the audit view's filter. */
export const AUDIT_ACTIONS = [
  'dataset.shared',
  'dataset.updated',
  'dataset.viewed',
  'dataset.withdrawn',
  'dataset.encrypted',
  'dataset.key_destroyed',
  'version.published',
  'access.changed',
  'embargo.lifted',
  'file.downloaded',
  'file.denied',
  'file.corrupt',
  'link.created',
  'link.revoked',
  'link.rejected',
  'link.lookup_failed',
  'committee.changed',
  'request.submitted',
  'request.flagged',
  'request.denied',
  'request.erased',
  'request.lookup_failed',
  'decision.recorded',
  'grant.issued',
  'grant.used',
  'grant.revoked',
  'grant.expired',
  'grant.rejected',
  'grant.lookup_failed',
  'grant.renewal_requested',
  'notification.sent',
  'notification.failed',
  'privacy.overridden',
  'token.issued',
  'token.revoked',
  'dataset.moved_in',
  'store.moved_in',
  'store.moved_out',
  'store.reclaimed',
  'file.repaired'
];
