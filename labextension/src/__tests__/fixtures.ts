/**
 * Server answers the panel's tests start from, shaped as the owner API returns them.
 */
import type { AccessRequest, Citation, CommitteeInfo, DatasetDetail } from '../types';

export function detail(overrides: Partial<DatasetDetail> = {}): DatasetDetail {
  return {
    id: 'ds-1a2b3c4d',
    title: 'Field measurements',
    description: 'Soil temperature by depth.',
    keywords: ['soil', 'temperature'],
    license: { id: 'CC-BY-4.0', name: 'Creative Commons Attribution 4.0', summary: '' },
    related_publication: null,
    access: { level: 'open', level_in_force: 'open', embargo_until: null, after_embargo: null },
    version: 1,
    latest_version: 1,
    created_at: '2026-03-01T10:00:00+00:00',
    files: [
      {
        path: 'table.csv',
        size: 24,
        sha256: 'a'.repeat(64),
        preview: {
          columns: [
            { name: 'site', type: 'object' },
            { name: 'depth_m', type: 'float64' }
          ],
          rows: 2,
          rows_are: 'exact',
          summary_of: 'all rows',
          missing: { site: 0, depth_m: 1 },
          duplicate_rows: 0,
          head: [
            ['A', 1.5],
            ['B', null]
          ]
        }
      },
      { path: 'notes/readme.txt', size: 15, sha256: 'b'.repeat(64), preview: null }
    ],
    file_count: 2,
    total_size: 39,
    withdrawn: false,
    creators: [{ name: 'Ada Lovelace', orcid: '0000-0002-1825-0097' }],
    owner: 'ada',
    source_path: 'data',
    include_hidden: false,
    versions: [{ number: 1, created_at: '2026-03-01T10:00:00+00:00', file_count: 2, total_size: 39 }],
    updated_at: '2026-03-01T10:00:00+00:00',
    withdrawn_at: null,
    withdrawal_reason: null,
    landing_page: '/datashare/d/ds-1a2b3c4d',
    preview_rows_public: false,
    provenance: '',
    rights_declaration: {},
    use_conditions: [],
    agreement: '',
    ...overrides
  };
}

export function restricted(): { detail: DatasetDetail; committee: CommitteeInfo } {
  return {
    detail: detail({
      access: { level: 'restricted', level_in_force: 'restricted', embargo_until: null, after_embargo: null },
      use_conditions: ['DS:MONDO:0005148', 'NCU'],
      agreement: 'No re-identification.'
    }),
    committee: {
      members: [
        { id: 'cm-1', username: 'bob', name: 'bob', email: null, kind: 'jupyter', counts_towards_quorum: true },
        {
          id: 'cm-2',
          username: null,
          name: 'Dr Grace Hopper',
          email: 'grace@example.org',
          kind: 'external',
          counts_towards_quorum: true
        }
      ],
      required_approvals: 1,
      rule: 'veto'
    }
  };
}

export function request(overrides: Partial<AccessRequest> = {}): AccessRequest {
  return {
    id: 'req-1',
    dataset_id: 'ds-1a2b3c4d',
    dataset_title: 'Cohort study',
    status: 'pending',
    name: 'Alan Turing',
    email: 'alan@example.org',
    institution: 'University of Manchester',
    orcid: '0000-0001-2345-6789',
    purpose: 'Replication of the published analysis.',
    intended_use: [{ code: 'GRU', meaning: 'General research use: any research purpose.' }],
    commercial: false,
    conditions: [{ code: 'HMB', meaning: 'Health, medical or biomedical research only.' }],
    flags: [],
    agreement_sha256: 'c'.repeat(64),
    requested_days: 30,
    submitted_at: '2026-03-02T10:00:00+00:00',
    decided_at: null,
    reason: null,
    required_approvals: 1,
    rule: 'veto',
    decisions: [],
    grant: null,
    deciders: ['ada', 'Dr Grace Hopper'],
    you_are_member: true,
    your_decision: null,
    you_may_decide: true,
    ...overrides
  };
}

export function citation(overrides: Partial<Citation> = {}): Citation {
  return {
    datacite: { titles: [{ title: 'Field measurements' }], version: '1' },
    bibtex: '@misc{lovelace2026_1a2b3c,\n  title = {{Field measurements}}\n}\n',
    text: 'Ada Lovelace (2026). Field measurements (Version 1) [Data set]. Jupyter. http://x/datashare/d/ds-1a2b3c4d',
    availability_statement: 'The data are openly available at http://x/datashare/d/ds-1a2b3c4d under CC-BY-4.0.',
    rights_statement:
      'Dataset: “Field measurements” (http://x/datashare/d/ds-1a2b3c4d). Licence: CC-BY-4.0. ' +
      '[Incomplete: add the missing declarations and the principal investigator, first author.]',
    generated_at: '2026-03-03T10:00:00+00:00',
    ...overrides
  };
}
