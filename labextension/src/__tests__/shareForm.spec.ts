import {
  buildShareBody,
  emptyCreator,
  emptyMember,
  formFields,
  initialState,
  needsCommittee,
  titleFromPath
} from '../shareForm';
import { errorForForm, DataShareError } from '../api';
import { useConditions } from '../vocab';

const base = () => initialState({ path: 'results/field_data.csv', isDir: false, creatorName: 'Ada Lovelace' });

describe('the share form', () => {
  it('starts from the path and the Jupyter identity', () => {
    const s = base();
    expect(s.title).toBe('field data');
    expect(s.creators).toEqual([{ name: 'Ada Lovelace', orcid: '', affiliation: '' }]);
    expect(s.licence).toBe('CC-BY-4.0');
    expect(s.level).toBe('open');
    expect(titleFromPath('a/b/')).toBe('b');
  });

  it('builds an open dataset body', () => {
    const s = { ...base(), keywords: 'soil, water', relatedPublication: ' 10.1234/abc ' };
    expect(buildShareBody(s).body).toEqual({
      path: 'results/field_data.csv',
      title: 'field data',
      description: '',
      creators: [{ name: 'Ada Lovelace' }],
      keywords: ['soil', 'water'],
      license: 'CC-BY-4.0',
      related_publication: '10.1234/abc',
      access: { level: 'open' }
    });
  });

  it('sends a custom licence with its text', () => {
    const s = { ...base(), licence: 'custom', customLicenceId: ' ODbL-1.0 ', licenceText: 'Terms…' };
    const { body } = buildShareBody(s);
    expect(body.license).toBe('ODbL-1.0');
    expect(body.license_text).toBe('Terms…');
  });

  it('sends the embargo date and the level after it', () => {
    const s = { ...base(), level: 'embargoed' as const, embargoUntil: '2027-01-31', afterEmbargo: 'restricted' as const };
    const { body } = buildShareBody(s);
    expect(body.access).toEqual({ level: 'embargoed', embargo_until: '2027-01-31', after_embargo: 'restricted' });
    expect(needsCommittee(s)).toBe(true);
    expect(body.committee).toEqual({ members: [], required_approvals: 1, rule: 'veto' });
  });

  it('builds the committee and data use conditions of a restricted dataset', () => {
    const s = {
      ...base(),
      level: 'restricted' as const,
      members: [
        { ...emptyMember('jupyter'), username: ' grace ' },
        emptyMember('external'), // left blank: dropped
        { ...emptyMember('external'), name: 'Dr Ext', email: 'ext@uni.example' }
      ],
      requiredApprovals: '2',
      rule: 'majority' as const,
      duoPrimary: 'DS',
      diseaseTerm: 'MONDO:0005148',
      duoModifiers: ['IRB', 'NPU'],
      agreement: 'Do not re-identify.'
    };
    const { body, toFormField } = buildShareBody(s);
    expect(body.committee).toEqual({
      members: [{ username: 'grace' }, { name: 'Dr Ext', email: 'ext@uni.example' }],
      required_approvals: 2,
      rule: 'majority'
    });
    expect(body.use_conditions).toEqual(['DS:MONDO:0005148', 'IRB', 'NPU']);
    expect(body.agreement).toBe('Do not re-identify.');
    // The server's second member is the form's third row.
    expect(toFormField('committee.members[1].email')).toBe('committee.members[2].email');
    expect(toFormField('committee.members[0]')).toBe('committee.members[0]');
    expect(toFormField('committee.members')).toBe('committee.members');
    const error = new DataShareError(
      'committee.members[1].email: must be an e-mail address',
      400,
      'InvalidInput',
      'committee.members[1].email'
    );
    expect(errorForForm(error, formFields(s), toFormField)).toEqual({
      field: 'committee.members[2].email',
      message: 'must be an e-mail address'
    });
  });

  it('leaves the committee out of datasets that need none', () => {
    const s = { ...base(), members: [{ ...emptyMember(), username: 'grace' }], agreement: 'x' };
    const { body } = buildShareBody(s);
    expect(body.committee).toBeUndefined();
    expect(body.agreement).toBeUndefined();
  });

  it('drops blank creator rows and maps errors back to the right row', () => {
    const s = {
      ...base(),
      creators: [emptyCreator(), { name: 'Ada', orcid: 'bad', affiliation: '' }]
    };
    const { body, toFormField } = buildShareBody(s);
    expect(body.creators).toEqual([{ name: 'Ada', orcid: 'bad' }]);
    expect(toFormField('creators[0].orcid')).toBe('creators[1].orcid');
    expect(toFormField('title')).toBe('title');
    expect(toFormField(null)).toBeNull();
  });

  it('passes a non-number of approvals through for the server to name', () => {
    const s = { ...base(), level: 'restricted' as const, requiredApprovals: '' };
    expect(buildShareBody(s).body.committee?.required_approvals).toBe('');
  });

  it('sends include_hidden only for folders', () => {
    expect(buildShareBody({ ...base(), includeHidden: true }).body.include_hidden).toBeUndefined();
    expect(buildShareBody({ ...base(), isDir: true, includeHidden: true }).body.include_hidden).toBe(true);
  });

  it('makes DUO condition lists', () => {
    expect(useConditions('', '', [])).toEqual([]);
    expect(useConditions('GRU', '', ['NPU', 'NPU'])).toEqual(['GRU', 'NPU']);
    expect(useConditions('DS', '', [])).toEqual(['DS']);
    expect(useConditions('DS', 'DS:MONDO:1', [])).toEqual(['DS:MONDO:1']);
  });
});
