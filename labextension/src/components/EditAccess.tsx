/**
 * Changing who may read a dataset: the level, the embargo and what follows it, the committee for
 * restricted data, and whether tables' first rows show publicly. Before data goes open the server
 * runs its privacy check; when it finds possible identifiers the form lists them and asks for
 * the reason to open anyway (recorded in the audit log).
 */
import { Dialog, showDialog } from '@jupyterlab/apputils';
import * as React from 'react';

import { DataShareClient, DataShareError, errorForForm, IFieldError } from '../api';
import { plural } from '../format';
import type { CommitteeInfo, CommitteeLink, DatasetDetail, Level, PrivacyFinding } from '../types';
import { AFTER_EMBARGO, LEVELS, levelName } from '../vocab';
import { Banner, BUTTON, ErrorOf, fieldId, focusField, invalidProps, ShownOnce, TextField } from './common';
import { CommitteeFields } from './CommitteeFields';
import {
  accessChanged,
  accessFields,
  accessFromDetail,
  buildAccessBody,
  describeChanges,
  IAccessState,
  needsCommittee
} from './datasetEdit';

export function EditAccess(props: {
  client: DataShareClient;
  detail: DatasetDetail;
  committee: CommitteeInfo | null;
  autoFocus?: boolean;
  onSaved: () => Promise<void>;
}): JSX.Element {
  const { client, detail, committee } = props;
  const uid = React.useId().replace(/:/g, '');
  const [state, setState] = React.useState<IAccessState>(() => accessFromDetail(detail, committee));
  const [error, setError] = React.useState<IFieldError | null>(null);
  const [notice, setNotice] = React.useState<string | null>(null);
  const [busy, setBusy] = React.useState(false);
  // Set once the server refused to open the data because of the privacy check's findings.
  const [findings, setFindings] = React.useState<PrivacyFinding[] | null>(null);
  const [overrideReason, setOverrideReason] = React.useState('');
  const [links, setLinks] = React.useState<CommitteeLink[]>([]);
  const firstLevel = React.useRef<HTMLInputElement>(null);

  // Start again from the stored values when they change; a reload that brings the same committee
  // (another section changed something) keeps what is being typed.
  const committeeKey = JSON.stringify(committee);
  React.useEffect(() => {
    setState(accessFromDetail(detail, committee));
    setFindings(null);
    setOverrideReason('');
  }, [detail.id, detail.updated_at, committeeKey]);
  React.useEffect(() => {
    if (props.autoFocus) {
      firstLevel.current?.focus();
    }
  }, [props.autoFocus]);

  const update = (patch: Partial<IAccessState>) => setState(s => ({ ...s, ...patch }));

  const save = async (e: React.FormEvent) => {
    e.preventDefault();
    const built = buildAccessBody(state, detail, committee, {
      overrideReason: findings ? overrideReason : undefined
    });
    setError(null);
    if (!built.changed.length) {
      setNotice('Nothing to save: access is as stored.');
      return;
    }
    if (accessChanged(state, detail)) {
      const level = LEVELS.find(l => l.id === state.level);
      const ok = await showDialog({
        title: `Make "${detail.title}" ${levelName(state.level).toLowerCase()}?`,
        body:
          `${level?.summary ?? ''} ` +
          (state.level === 'embargoed'
            ? `From ${state.embargoUntil}: ${levelName(state.afterEmbargo).toLowerCase()}. `
            : '') +
          'Review links keep working; the change is recorded in the audit log.',
        buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Change access' })]
      });
      if (!ok.button.accept) {
        return;
      }
    }
    setBusy(true);
    setNotice(null);
    try {
      const out = await client.update(detail.id, built.body);
      setLinks(out.committee_links ?? []);
      setNotice(`Saved the ${describeChanges(built.changed)}.`);
      setFindings(null);
      await props.onSaved();
    } catch (reason) {
      if (reason instanceof DataShareError && reason.field === 'privacy_override') {
        setFindings(reason.findings);
        setError({ field: 'privacy_override', message: reason.fieldMessage });
        focusField(uid, 'privacy_override.reason');
        return;
      }
      const found = errorForForm(reason, accessFields(state), built.toFormField);
      setError(found);
      if (found.field) {
        focusField(uid, found.field);
      }
    } finally {
      setBusy(false);
    }
  };

  return (
    <form
      className="jp-DataShare-editForm"
      onSubmit={save}
      noValidate
      aria-label="Edit access"
      // Editing the field an error is about clears that error (the next save checks again).
      onChange={e => {
        if (error?.field && (e.target as HTMLElement).id === fieldId(uid, error.field)) {
          setError(null);
        }
      }}
    >
      <fieldset
        id={fieldId(uid, 'access.level')}
        tabIndex={-1}
        className="jp-DataShare-fieldset"
        {...invalidProps(uid, 'access.level', error)}
      >
        <legend>Access level</legend>
        <div className="jp-DataShare-choices" role="radiogroup" aria-label="Access level">
          {LEVELS.map((l, i) => (
            <div key={l.id} className="jp-DataShare-choice">
              <input
                ref={i === 0 ? firstLevel : undefined}
                id={fieldId(uid, `level-${l.id}`)}
                type="radio"
                name={`${uid}-level`}
                checked={state.level === l.id}
                onChange={() => update({ level: l.id })}
              />
              <label htmlFor={fieldId(uid, `level-${l.id}`)}>
                <span className="jp-DataShare-choiceName">{l.name}</span>
                <span className="jp-DataShare-choiceSummary">{l.summary}</span>
              </label>
            </div>
          ))}
        </div>
        <ErrorOf uid={uid} name="access.level" error={error} />
        <ErrorOf uid={uid} name="access" error={error} />
        {state.level === 'embargoed' ? (
          <div className="jp-DataShare-fieldRow jp-DataShare-subfields">
            <TextField uid={uid} name="access.embargo_until" label="Embargo until" type="date"
              className="jp-DataShare-narrow" value={state.embargoUntil}
              onChange={v => update({ embargoUntil: v })} error={error} />
            <div className="jp-DataShare-field jp-DataShare-narrow">
              <label htmlFor={fieldId(uid, 'access.after_embargo')}>Then</label>
              <select
                id={fieldId(uid, 'access.after_embargo')}
                className="jp-mod-styled"
                value={state.afterEmbargo}
                onChange={e => update({ afterEmbargo: e.target.value as Level })}
                {...invalidProps(uid, 'access.after_embargo', error)}
              >
                {AFTER_EMBARGO.map(a => (
                  <option key={a.id} value={a.id}>
                    {a.name}
                  </option>
                ))}
              </select>
              <ErrorOf uid={uid} name="access.after_embargo" error={error} />
            </div>
          </div>
        ) : null}
      </fieldset>

      {needsCommittee(state) ? (
        <CommitteeFields uid={uid} state={state} update={update} error={error} />
      ) : null}

      <div className="jp-DataShare-check">
        <input
          id={fieldId(uid, 'preview_rows_public')}
          type="checkbox"
          checked={state.previewRowsPublic}
          onChange={e => update({ previewRowsPublic: e.target.checked })}
          {...invalidProps(uid, 'preview_rows_public', error)}
        />
        <label htmlFor={fieldId(uid, 'preview_rows_public')}>
          Show tables' first rows on the public page while the data is not open (otherwise only
          their columns and summary show)
        </label>
        <ErrorOf uid={uid} name="preview_rows_public" error={error} />
      </div>

      {findings ? (
        <div className="jp-DataShare-override" role="group" aria-label="Privacy check">
          <Banner kind="warning">
            {error?.field === 'privacy_override' ? error.message : 'The privacy check found:'}
            <ul data-testid="datashare-privacy-findings">
              {findings.map((f, i) => (
                <li key={i}>
                  {f.kind}: {plural(f.count, 'value')}
                  {f.file ? ` in ${f.file}` : ''}
                  {f.column ? `, column “${f.column}”` : ''}
                </li>
              ))}
            </ul>
          </Banner>
          <TextField uid={uid} name="privacy_override.reason" multiline rows={2}
            label="Why may the data be open anyway? (recorded in the audit log)"
            value={overrideReason} onChange={setOverrideReason} error={error} />
        </div>
      ) : null}

      {error && !error.field ? <Banner kind="error">{error.message}</Banner> : null}
      {notice ? (
        <Banner kind="success" onDismiss={() => setNotice(null)}>
          {notice}
        </Banner>
      ) : null}
      {links.map(l => (
        <ShownOnce
          key={l.member_id}
          label={`Committee link for ${l.name}`}
          value={l.url}
          note={`Send it to ${l.email}: it is their personal page for deciding requests. Shown only this once.`}
        />
      ))}
      <div className="jp-DataShare-buttons">
        <button type="submit" className={findings ? BUTTON.warn : BUTTON.accept} disabled={busy}
          data-testid="datashare-save-access">
          {busy ? 'Saving…' : findings ? 'Open anyway' : 'Save access'}
        </button>
        <button
          type="button"
          className={BUTTON.plain}
          disabled={busy}
          onClick={() => {
            setState(accessFromDetail(detail, committee));
            setError(null);
            setNotice(null);
            setFindings(null);
          }}
        >
          Undo changes
        </button>
      </div>
    </form>
  );
}
