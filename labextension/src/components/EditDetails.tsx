/**
 * Editing a dataset's details after sharing: title, description, keywords, creators, licence,
 * related publication, provenance and the data rights declaration. Only changed fields are sent;
 * a server error lands next to the field it names, and the focus moves there.
 */
import * as React from 'react';

import { DataShareClient, errorForForm, IFieldError } from '../api';
import type { DatasetDetail } from '../types';
import { CUSTOM_LICENCE, LICENCES } from '../vocab';
import {
  Banner,
  BUTTON,
  ErrorOf,
  fieldId,
  focusField,
  invalidProps,
  TextField
} from './common';
import {
  buildMetadataBody,
  describeChanges,
  emptyCreator,
  ICreatorRow,
  IMetadataState,
  metadataFields,
  metadataFromDetail
} from './datasetEdit';

export function EditDetails(props: {
  client: DataShareClient;
  detail: DatasetDetail;
  autoFocus?: boolean;
  /** Where the focus goes when the section is opened for editing. */
  focus?: 'title' | 'rights';
  onSaved: () => Promise<void>;
}): JSX.Element {
  const { client, detail } = props;
  const uid = React.useId().replace(/:/g, '');
  const [state, setState] = React.useState<IMetadataState>(() => metadataFromDetail(detail));
  const [error, setError] = React.useState<IFieldError | null>(null);
  const [notice, setNotice] = React.useState<string | null>(null);
  const [busy, setBusy] = React.useState(false);
  const titleRef = React.useRef<HTMLInputElement>(null);

  // A save (or a reload) brings new stored values: the form starts again from them.
  React.useEffect(() => setState(metadataFromDetail(detail)), [detail.id, detail.updated_at]);
  React.useEffect(() => {
    if (!props.autoFocus) {
      return;
    }
    const target =
      props.focus === 'rights' ? document.getElementById(fieldId(uid, 'no_secrets')) : titleRef.current;
    target?.focus();
    target?.scrollIntoView?.({ block: 'center' });
  }, [props.autoFocus, props.focus]);

  const set = <K extends keyof IMetadataState>(key: K, value: IMetadataState[K]) =>
    setState(s => ({ ...s, [key]: value }));
  const setCreator = (i: number, patch: Partial<ICreatorRow>) =>
    setState(s => ({ ...s, creators: s.creators.map((c, j) => (j === i ? { ...c, ...patch } : c)) }));

  const save = async (e: React.FormEvent) => {
    e.preventDefault();
    const built = buildMetadataBody(state, detail);
    setError(null);
    if (!built.changed.length) {
      setNotice('Nothing to save: the details are as stored.');
      return;
    }
    setBusy(true);
    setNotice(null);
    try {
      await client.update(detail.id, built.body);
      setNotice(`Saved the ${describeChanges(built.changed)}.`);
      await props.onSaved();
    } catch (reason) {
      const found = errorForForm(reason, metadataFields(state), built.toFormField);
      setError(found);
      if (found.field) {
        focusField(uid, found.field);
      }
    } finally {
      setBusy(false);
    }
  };

  const text = (name: string, label: string, key: keyof IMetadataState, extra: object = {}) => (
    <TextField
      uid={uid}
      name={name}
      label={label}
      value={state[key] as string}
      onChange={v => set(key, v as never)}
      error={error}
      {...extra}
    />
  );
  const licence = LICENCES.find(l => l.id === state.licence);
  const custom = state.licence === CUSTOM_LICENCE;

  return (
    <form
      className="jp-DataShare-editForm"
      onSubmit={save}
      noValidate
      aria-label="Edit details"
      // Editing the field an error is about clears that error (the next save checks again).
      onChange={e => {
        if (error?.field && (e.target as HTMLElement).id === fieldId(uid, error.field)) {
          setError(null);
        }
      }}
    >
      {text('title', 'Title', 'title', { inputRef: titleRef })}
      {text('description', 'Description', 'description', { multiline: true, rows: 4 })}
      {text('keywords', 'Keywords', 'keywords', { hint: 'Separated by commas.' })}

      <fieldset className="jp-DataShare-fieldset" aria-describedby={`${fieldId(uid, 'creators')}-error`}>
        <legend>Creators</legend>
        <ErrorOf uid={uid} name="creators" error={error} />
        {state.creators.map((c, i) => (
          <div key={i} className="jp-DataShare-creator" role="group" aria-label={`Creator ${i + 1}`}>
            <TextField uid={uid} name={`creators[${i}].name`} label="Name" value={c.name}
              onChange={v => setCreator(i, { name: v })} error={error} />
            <TextField uid={uid} name={`creators[${i}].orcid`} label="ORCID iD" value={c.orcid}
              placeholder="0000-0002-1825-0097" onChange={v => setCreator(i, { orcid: v })} error={error} />
            <TextField uid={uid} name={`creators[${i}].affiliation`} label="Affiliation" value={c.affiliation}
              onChange={v => setCreator(i, { affiliation: v })} error={error} />
            <TextField uid={uid} name={`creators[${i}].affiliation_ror`} label="Affiliation ROR id"
              value={c.affiliationRor} placeholder="https://ror.org/…"
              onChange={v => setCreator(i, { affiliationRor: v })} error={error} />
            <ErrorOf uid={uid} name={`creators[${i}]`} error={error} />
            <button
              type="button"
              className="jp-DataShare-linkButton"
              aria-label={`Remove creator ${i + 1}${c.name ? ` (${c.name})` : ''}`}
              onClick={() => setState(s => ({ ...s, creators: s.creators.filter((_, j) => j !== i) }))}
            >
              Remove
            </button>
          </div>
        ))}
        <button
          type="button"
          className={BUTTON.plain + ' jp-DataShare-small'}
          onClick={() => setState(s => ({ ...s, creators: [...s.creators, emptyCreator()] }))}
        >
          Add creator
        </button>
      </fieldset>

      {/* With a custom licence the server's `license` errors are about the identifier field. */}
      <div className="jp-DataShare-field">
        <label htmlFor={fieldId(uid, custom ? 'licence_choice' : 'license')}>Licence</label>
        <select
          id={fieldId(uid, custom ? 'licence_choice' : 'license')}
          className="jp-mod-styled"
          value={state.licence}
          onChange={e => set('licence', e.target.value)}
          {...(custom ? {} : invalidProps(uid, 'license', error))}
        >
          {LICENCES.map(l => (
            <option key={l.id} value={l.id}>
              {l.name}
            </option>
          ))}
        </select>
        {licence ? <div className="jp-DataShare-hint">{licence.summary}</div> : null}
        {custom ? null : <ErrorOf uid={uid} name="license" error={error} />}
      </div>
      {custom ? (
        <div className="jp-DataShare-subfields">
          {text('license', 'Licence identifier', 'customLicenceId', { placeholder: 'e.g. ODbL-1.0' })}
          {text('license_text', 'Licence text', 'licenceText', { multiline: true, rows: 4 })}
        </div>
      ) : null}

      {text('related_publication', 'Related publication (DOI or URL)', 'relatedPublication', {
        placeholder: '10.1234/journal.5678'
      })}
      {text('provenance', 'Provenance: how the data were produced', 'provenance', {
        multiline: true,
        rows: 3
      })}

      <fieldset className="jp-DataShare-fieldset">
        <legend>Data rights declaration</legend>
        <div className="jp-DataShare-hint">
          What the authors declare about the data; it makes up the data rights statement under Cite.
        </div>
        <ErrorOf uid={uid} name="rights_declaration" error={error} />
        <div className="jp-DataShare-check">
          <input
            id={fieldId(uid, 'no_secrets')}
            type="checkbox"
            checked={state.noSecrets}
            onChange={e => set('noSecrets', e.target.checked)}
          />
          <label htmlFor={fieldId(uid, 'no_secrets')}>
            The data contain no state secrets and no commercial secrets
          </label>
        </div>
        <div className="jp-DataShare-check">
          <input
            id={fieldId(uid, 'no_personal')}
            type="checkbox"
            checked={state.noUnprotectedPersonalData}
            onChange={e => set('noUnprotectedPersonalData', e.target.checked)}
          />
          <label htmlFor={fieldId(uid, 'no_personal')}>
            The data contain no unprotected personal data (anonymised, or shared only under access
            control with the participants' consent)
          </label>
        </div>
        {text('rights_declaration.principal_investigator', 'Principal investigator', 'principalInvestigator')}
        {text('rights_declaration.first_author', 'First author', 'firstAuthor')}
        {text('rights_declaration.corresponding_author', 'Corresponding author', 'correspondingAuthor')}
      </fieldset>

      {error && !error.field ? <Banner kind="error">{error.message}</Banner> : null}
      {notice ? (
        <Banner kind="success" onDismiss={() => setNotice(null)}>
          {notice}
        </Banner>
      ) : null}
      <div className="jp-DataShare-buttons">
        <button type="submit" className={BUTTON.accept} disabled={busy} data-testid="datashare-save-details">
          {busy ? 'Saving…' : 'Save details'}
        </button>
        <button
          type="button"
          className={BUTTON.plain}
          disabled={busy}
          onClick={() => {
            setState(metadataFromDetail(detail));
            setError(null);
            setNotice(null);
          }}
        >
          Undo changes
        </button>
      </div>
    </form>
  );
}
