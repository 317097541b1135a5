import { errorForForm, DataShareError } from '../api';
import {
  accessFields,
  accessFromDetail,
  buildAccessBody,
  buildMetadataBody,
  describeChanges,
  emptyCreator,
  emptyMember,
  metadataFields,
  metadataFromDetail
} from '../components/datasetEdit';
import { detail, restricted } from './fixtures';

describe('the details form', () => {
  it('sends nothing when nothing changed (so no audit event is recorded)', () => {
    const d = detail({
      related_publication: 'https://doi.org/10.1234/paper.1',
      rights_declaration: { no_secrets: true, first_author: 'Ada Lovelace' }
    });
    const built = buildMetadataBody(metadataFromDetail(d), d);
    expect(built.body).toEqual({});
    expect(built.changed).toEqual([]);
  });

  it('sends only the fields that changed', () => {
    const d = detail();
    const state = { ...metadataFromDetail(d), title: 'Soil temperature 2026', keywords: 'soil, depth,, ' };
    expect(buildMetadataBody(state, d).body).toEqual({
      title: 'Soil temperature 2026',
      keywords: ['soil', 'depth']
    });
  });

  it('sends an emptied title as typed, so the server names the field', () => {
    const d = detail();
    expect(buildMetadataBody({ ...metadataFromDetail(d), title: '  ' }, d).body).toEqual({ title: '  ' });
  });

  it('drops blank creator rows and maps the server error back to the row shown', () => {
    const d = detail();
    const state = metadataFromDetail(d);
    state.creators = [emptyCreator(), ...state.creators, { ...emptyCreator(), name: 'Grace', orcid: 'nope' }];
    const built = buildMetadataBody(state, d);
    expect(built.body.creators).toEqual([
      { name: 'Ada Lovelace', orcid: '0000-0002-1825-0097' },
      { name: 'Grace', orcid: 'nope' }
    ]);
    // The server counts the creators it received: its creators[1] is the form's third row.
    const error = new DataShareError("creators[1].orcid: 'nope' is not a valid ORCID iD", 400, 'InvalidInput', 'creators[1].orcid');
    expect(errorForForm(error, metadataFields(state), built.toFormField)).toEqual({
      field: 'creators[2].orcid',
      message: "'nope' is not a valid ORCID iD"
    });
  });

  it("round-trips a creator's affiliation ROR id without sending a change", () => {
    const d = detail({ creators: [{ name: 'Ada', affiliation: 'Uni', affiliation_ror: 'https://ror.org/03yrm5c26' }] });
    expect(metadataFromDetail(d).creators[0].affiliationRor).toBe('https://ror.org/03yrm5c26');
    expect(buildMetadataBody(metadataFromDetail(d), d).body).toEqual({});
  });

  it('sends a custom licence with its text, and a known one alone', () => {
    const d = detail();
    const custom = { ...metadataFromDetail(d), licence: 'custom', customLicenceId: 'ODbL-1.0', licenceText: 'Open Database Licence' };
    expect(buildMetadataBody(custom, d).body).toEqual({ license: 'ODbL-1.0', license_text: 'Open Database Licence' });
    const stored = detail({ license: { id: 'ODbL-1.0', name: 'ODbL-1.0', text: 'Open Database Licence' } });
    expect(metadataFromDetail(stored).licence).toBe('custom');
    expect(buildMetadataBody({ ...metadataFromDetail(stored), licence: 'CC0-1.0' }, stored).body).toEqual({ license: 'CC0-1.0' });
  });

  it('sends the whole rights declaration when one part changes', () => {
    const d = detail({ rights_declaration: { first_author: 'Ada Lovelace' } });
    const state = { ...metadataFromDetail(d), noSecrets: true, correspondingAuthor: ' Grace Hopper ' };
    expect(buildMetadataBody(state, d).body).toEqual({
      rights_declaration: {
        no_secrets: true,
        no_unprotected_personal_data: false,
        first_author: 'Ada Lovelace',
        corresponding_author: 'Grace Hopper'
      }
    });
  });

  it('clears the related publication with an empty string', () => {
    const d = detail({ related_publication: 'https://doi.org/10.1234/x' });
    expect(buildMetadataBody({ ...metadataFromDetail(d), relatedPublication: '' }, d).body).toEqual({
      related_publication: ''
    });
  });
});

describe('the access form', () => {
  it('sends nothing for an unchanged restricted dataset (committee and conditions included)', () => {
    const { detail: d, committee } = restricted();
    const state = accessFromDetail(d, committee);
    expect(state).toMatchObject({ duoPrimary: 'DS', diseaseTerm: 'MONDO:0005148', duoModifiers: ['NCU'] });
    expect(buildAccessBody(state, d, committee).body).toEqual({});
  });

  it('sends the embargo with its date and what follows it', () => {
    const d = detail();
    const state = { ...accessFromDetail(d, null), level: 'embargoed' as const, embargoUntil: '2027-01-31', afterEmbargo: 'restricted' as const };
    const built = buildAccessBody({ ...state, members: [{ ...emptyMember(), username: 'bob' }] }, d, null);
    expect(built.body).toEqual({
      access: { level: 'embargoed', embargo_until: '2027-01-31', after_embargo: 'restricted' },
      committee: { members: [{ username: 'bob' }], required_approvals: 1, rule: 'veto' }
    });
    expect(describeChanges(built.changed)).toBe('access and committee');
  });

  it('does not resend an embargo whose date and sequel are unchanged', () => {
    const d = detail({
      access: { level: 'embargoed', level_in_force: 'embargoed', embargo_until: '2027-01-31T00:00:00+00:00', after_embargo: 'open' }
    });
    const state = { ...accessFromDetail(d, null), previewRowsPublic: true };
    expect(buildAccessBody(state, d, null).body).toEqual({ preview_rows_public: true });
  });

  it('sends the committee when a member is added, mapping errors back to the row', () => {
    const { detail: d, committee } = restricted();
    const state = accessFromDetail(d, committee);
    state.members = [...state.members, emptyMember(), { kind: 'external', username: '', name: 'Ext', email: 'bad' }];
    const built = buildAccessBody(state, d, committee);
    expect(built.body).toEqual({
      committee: {
        members: [{ username: 'bob' }, { name: 'Dr Grace Hopper', email: 'grace@example.org' }, { name: 'Ext', email: 'bad' }],
        required_approvals: 1,
        rule: 'veto'
      }
    });
    const error = new DataShareError('committee.members[2].email: must be an e-mail address', 400, 'InvalidInput', 'committee.members[2].email');
    expect(errorForForm(error, accessFields(state), built.toFormField).field).toBe('committee.members[3].email');
  });

  it('sends a changed rule or quorum, and the conditions and agreement as edited', () => {
    const { detail: d, committee } = restricted();
    const state = { ...accessFromDetail(d, committee), rule: 'majority' as const, duoPrimary: 'HMB', agreement: 'New text' };
    expect(buildAccessBody(state, d, committee).body).toEqual({
      committee: {
        members: [{ username: 'bob' }, { name: 'Dr Grace Hopper', email: 'grace@example.org' }],
        required_approvals: 1,
        rule: 'majority'
      },
      use_conditions: ['HMB', 'NCU'],
      agreement: 'New text'
    });
  });

  it('adds the privacy override only to a change of access', () => {
    const d = detail({ access: { level: 'reviewer-only', level_in_force: 'reviewer-only', embargo_until: null, after_embargo: null } });
    const open = { ...accessFromDetail(d, null), level: 'open' as const };
    expect(buildAccessBody(open, d, null, { overrideReason: 'consented' }).body).toEqual({
      access: { level: 'open' },
      privacy_override: { reason: 'consented' }
    });
    const same = accessFromDetail(d, null);
    expect(buildAccessBody(same, d, null, { overrideReason: 'consented' }).body).toEqual({});
  });
});
