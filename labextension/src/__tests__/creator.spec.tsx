/**
 * The share form's first creator is a real person or nobody: jupyter-server's random anonymous
 * identity ("Anonymous Aoede", a 32-hex-digit username) and a bare login name are not names for
 * a citation; a configured default creator wins; a blank name shows a hint.
 */
import * as React from 'react';

import { DataShareClient } from '../api';
import { ShareForm } from '../components/ShareForm';
import { CREATOR_HINT, isAnonymousIdentity, prefillCreator } from '../creator';
import { DEFAULT_PREFERENCES } from '../model';
import { initialState } from '../shareForm';
import { IDom, mount } from './dom';
import schema from '../../schema/plugin.json';

// As jupyter-server's IdentityProvider.generate_anonymous_user makes it (uuid4().hex, a moon).
const anonymous = {
  username: '4f1c2b7d9e0a4c6b8d2e1f3a5b7c9d0e',
  name: 'Anonymous Aoede',
  display_name: 'Anonymous Aoede',
  initials: 'AA'
};
const ada = { username: 'ada', name: 'Ada Lovelace', display_name: 'Ada Lovelace' };
// JupyterHub's single-user server: only the hub login.
const hubLogin = { username: 'gsteward', name: 'gsteward', display_name: 'gsteward' };
const blank = { name: '', orcid: '', affiliation: '' };

describe('the first creator', () => {
  it('is left blank for an anonymous identity', () => {
    expect(isAnonymousIdentity(anonymous)).toBe(true);
    expect(isAnonymousIdentity({ ...anonymous, name: 'Anonymous Io', display_name: '' })).toBe(true);
    expect(prefillCreator(anonymous)).toEqual(blank);
  });

  it("is the identity's name when it names a person", () => {
    expect(isAnonymousIdentity(ada)).toBe(false);
    expect(prefillCreator(ada)).toEqual({ ...blank, name: 'Ada Lovelace' });
    // A provider may use random ids with real names: those are people too.
    expect(prefillCreator({ ...anonymous, name: 'Grace Hopper', display_name: 'Grace' })).toEqual({
      ...blank,
      name: 'Grace Hopper'
    });
  });

  it('is not a bare login name, nor anything without an identity', () => {
    expect(prefillCreator(hubLogin)).toEqual(blank);
    expect(prefillCreator(null)).toEqual(blank);
    expect(prefillCreator({ username: 'ada' })).toEqual(blank);
  });

  it('is the configured default creator, with ORCID iD and affiliation, before any identity', () => {
    const configured = { name: ' Dr Grace Steward ', orcid: '0000-0002-1825-0097', affiliation: 'Example University' };
    expect(prefillCreator(ada, configured)).toEqual({
      name: 'Dr Grace Steward',
      orcid: '0000-0002-1825-0097',
      affiliation: 'Example University'
    });
    expect(prefillCreator(anonymous, configured).name).toBe('Dr Grace Steward');
    // A default without a name is no default.
    expect(prefillCreator(ada, { name: ' ', orcid: '0000-0002-1825-0097' })).toEqual({ ...blank, name: 'Ada Lovelace' });
    expect(prefillCreator(anonymous, {})).toEqual(blank);
  });
});

it('is a setting of the extension (Settings → Data Sharing)', () => {
  const setting = (schema.properties as Record<string, any>).defaultCreator;
  expect(Object.keys(setting.properties)).toEqual(['name', 'orcid', 'affiliation']);
  expect(setting.additionalProperties).toBe(false);
  expect(setting.default).toEqual(DEFAULT_PREFERENCES.defaultCreator);
});

describe('the share form', () => {
  let dom: IDom;
  beforeEach(() => (dom = mount()));
  afterEach(() => dom.unmount());

  const nameInput = () =>
    dom.container.querySelector<HTMLInputElement>('[data-field="creators[0]"] input')!;

  it('shows a hint, not a random name, when nobody real is known', async () => {
    const initial = initialState({ path: 'data.csv', isDir: false, creator: prefillCreator(anonymous) });
    await dom.render(<ShareForm client={new DataShareClient()} initial={initial} />);
    expect(nameInput().value).toBe('');
    expect(nameInput().placeholder).toBe(CREATOR_HINT);
    expect(dom.container.textContent).not.toContain('Anonymous');
  });

  it('starts with the configured default creator', async () => {
    const creator = prefillCreator(anonymous, { name: 'Dr Grace Steward', affiliation: 'Example University' });
    await dom.render(
      <ShareForm client={new DataShareClient()} initial={initialState({ path: 'data.csv', isDir: false, creator })} />
    );
    const row = dom.container.querySelector('[data-field="creators[0]"]')!;
    expect([...row.querySelectorAll('input')].map(i => i.value)).toEqual(['Dr Grace Steward', '', 'Example University']);
  });
});
