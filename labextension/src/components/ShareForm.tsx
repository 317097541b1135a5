/**
 * "Share as dataset…": metadata, licence, access level, committee and data use conditions.
 *
 * Errors come from the server (it is the judge of every field) and are shown next to the field
 * it names. Freezing a large folder takes a while: it runs as a job on the server, and the form
 * shows how many files and bytes are done (polling the job), stays responsive, and can stop it.
 */
import { addIcon, closeIcon } from '@jupyterlab/ui-components';
import * as React from 'react';

import { DataShareClient, errorForForm } from '../api';
import { CREATOR_HINT } from '../creator';
import { formatBytes, formatElapsed, plural } from '../format';
import {
  describeProgress,
  IJob,
  JobCancelled,
  progressFraction,
  shareInBackground,
  StoppedWaiting
} from '../jobs';
import {
  buildShareBody,
  emptyCreator,
  emptyMember,
  formFields,
  ICreatorRow,
  IMemberRow,
  IShareFormState,
  needsCommittee
} from '../shareForm';
import type { Level, ShareResult } from '../types';
import {
  AFTER_EMBARGO,
  CUSTOM_LICENCE,
  DUO_MODIFIERS,
  DUO_PRIMARY,
  LEVELS,
  LICENCES,
  RULES
} from '../vocab';
import {
  Banner,
  BUTTON,
  Busy,
  FieldError,
  LevelBadge,
  ShownOnce,
  useNow
} from './common';

/** What is about to be frozen, counted beforehand through the contents API. */
export interface IScanResult {
  files: number;
  bytes: number;
  /** True when the scan stopped early (a very large folder): the numbers are a lower bound. */
  partial: boolean;
}

export interface IShareFormProps {
  client: DataShareClient;
  initial: IShareFormState;
  scan?: () => Promise<IScanResult>;
  onShared?: (result: ShareResult) => void;
  onOpenDataset?: (id: string) => void;
  onClose?: () => void;
}

type Phase = 'edit' | 'sharing' | 'done';

/** Whether `field` is `group` or lies inside it (`committee.members[0].email` in `committee`). */
function within(field: string, group: string): boolean {
  return field === group || field.startsWith(`${group}.`) || field.startsWith(`${group}[`);
}

export function ShareForm(props: IShareFormProps): JSX.Element {
  const { client } = props;
  const uid = React.useId().replace(/:/g, '');
  const [state, setState] = React.useState<IShareFormState>(props.initial);
  const [phase, setPhase] = React.useState<Phase>('edit');
  const [error, setError] = React.useState<{ field: string; message: string } | null>(null);
  const [started, setStarted] = React.useState(0);
  const [finished, setFinished] = React.useState(0);
  const [result, setResult] = React.useState<ShareResult | null>(null);
  const [scan, setScan] = React.useState<IScanResult | null>(null);
  const [job, setJob] = React.useState<IJob | null>(null);
  const [notice, setNotice] = React.useState<string | null>(null);
  const formRef = React.useRef<HTMLFormElement>(null);
  /** Stops the job on the server (the Stop button). */
  const stopRef = React.useRef<AbortController | null>(null);
  /** Stops only the polling, when the form goes away while the job runs on. */
  const detachRef = React.useRef(new AbortController());
  const now = useNow(phase === 'sharing' ? 500 : 60_000);

  React.useEffect(() => {
    let alive = true;
    props
      .scan?.()
      .then(found => alive && setScan(found))
      .catch(() => undefined);
    return () => {
      alive = false;
    };
  }, []);

  React.useEffect(() => () => detachRef.current.abort(), []);

  // After a server error, move the focus to the field it names.
  React.useEffect(() => {
    if (error?.field && formRef.current) {
      const el = formRef.current.querySelector<HTMLElement>(
        `[data-field="${CSS.escape(error.field)}"]`
      );
      el?.focus();
    }
  }, [error]);

  const set = <K extends keyof IShareFormState>(key: K, value: IShareFormState[K]) => {
    setState(s => ({ ...s, [key]: value }));
  };

  const id = (field: string) => `${uid}-${field.replace(/[^A-Za-z0-9_-]/g, '_')}`;
  const errorOf = (field: string) => (error?.field === field ? error.message : null);
  /** Attributes tying a control to its field name and its error. */
  /** Editing a field clears the server's message about it (it may no longer hold). */
  const clear = (field: string) => {
    setError(e => (e && e.field && (within(e.field, field) || within(field, e.field)) ? null : e));
  };
  const control = (field: string) => ({
    id: id(field),
    'data-field': field,
    onInput: () => clear(field),
    'aria-invalid': error?.field === field ? true : undefined,
    'aria-describedby': error?.field === field ? `${id(field)}-error` : undefined
  });
  const err = (field: string) => (
    <FieldError id={`${id(field)}-error`} message={errorOf(field)} />
  );

  const submit = async (event?: React.FormEvent) => {
    event?.preventDefault();
    if (phase === 'sharing') {
      return;
    }
    const { body, toFormField } = buildShareBody(state);
    setError(null);
    setNotice(null);
    setJob(null);
    setPhase('sharing');
    setStarted(Date.now());
    const stop = (stopRef.current = new AbortController());
    try {
      const out = await shareInBackground(client, body, {
        onProgress: setJob,
        signal: stop.signal,
        detach: detachRef.current.signal
      });
      setFinished(Date.now());
      setResult(out);
      setPhase('done');
      props.onShared?.(out);
    } catch (reason) {
      if (reason instanceof StoppedWaiting) {
        return; // the form is gone; the job goes on and its dataset will be listed
      }
      if (reason instanceof JobCancelled) {
        setNotice(reason.message);
      } else {
        setError(errorForForm(reason, formFields(state), toFormField));
      }
      setPhase('edit');
    }
  };

  if (phase === 'done' && result) {
    return (
      <ShareDone
        client={client}
        result={result}
        elapsed={finished - started}
        onOpenDataset={props.onOpenDataset}
        onClose={props.onClose}
      />
    );
  }

  const sharing = phase === 'sharing';
  const committee = needsCommittee(state);
  const what = state.isDir ? 'folder' : 'file';

  return (
    <form
      ref={formRef}
      className="jp-DataShare-form"
      onSubmit={submit}
      noValidate
      aria-label={`Share ${state.path} as a dataset`}
      aria-busy={sharing}
    >
      <header className="jp-DataShare-formHeader">
        <h2>Share as dataset</h2>
        <div className="jp-DataShare-formPath">
          <span>{state.isDir ? 'Folder' : 'File'}: </span>
          <code data-field="path" tabIndex={-1}>
            {state.path || '(the server root)'}
          </code>
          {scan ? (
            <span className="jp-DataShare-hint">
              {' '}
              · {scan.partial ? 'at least ' : ''}
              {plural(scan.files, 'file')}, {formatBytes(scan.bytes)}
            </span>
          ) : null}
        </div>
        {err('path')}
        <p className="jp-DataShare-hint">
          Sharing freezes a copy of this {what}: later edits never change what was shared
          (publish a new version for that).
        </p>
      </header>

      {error && !error.field ? (
        <Banner kind="error" onDismiss={() => setError(null)}>
          {error.message}
        </Banner>
      ) : null}
      {notice ? (
        <Banner kind="info" onDismiss={() => setNotice(null)}>
          {notice}
        </Banner>
      ) : null}

      <fieldset disabled={sharing} className="jp-DataShare-fieldset">
        <legend>Description</legend>
        <div className="jp-DataShare-field">
          <label htmlFor={id('title')}>Title</label>
          <input
            {...control('title')}
            className="jp-mod-styled"
            value={state.title}
            onChange={e => set('title', e.target.value)}
          />
          {err('title')}
        </div>
        <div className="jp-DataShare-field">
          <label htmlFor={id('description')}>Description</label>
          <textarea
            {...control('description')}
            className="jp-mod-styled jp-DataShare-textarea"
            rows={4}
            value={state.description}
            onChange={e => set('description', e.target.value)}
            placeholder="What the data is, how it was made, what each file holds."
          />
          {err('description')}
        </div>
        <CreatorsEditor
          rows={state.creators}
          onChange={rows => set('creators', rows)}
          control={control}
          err={err}
          id={id}
        />
        {err('creators')}
        <div className="jp-DataShare-fieldRow">
          <div className="jp-DataShare-field">
            <label htmlFor={id('keywords')}>Keywords</label>
            <input
              {...control('keywords')}
              className="jp-mod-styled"
              value={state.keywords}
              placeholder="comma-separated"
              onChange={e => set('keywords', e.target.value)}
            />
            {err('keywords')}
          </div>
          <div className="jp-DataShare-field">
            <label htmlFor={id('related_publication')}>Related publication (DOI or URL)</label>
            <input
              {...control('related_publication')}
              className="jp-mod-styled"
              value={state.relatedPublication}
              placeholder="10.1234/abcd or https://…"
              onChange={e => set('relatedPublication', e.target.value)}
            />
            {err('related_publication')}
          </div>
        </div>
        {state.isDir ? (
          <div className="jp-DataShare-check">
            <input
              {...control('include_hidden')}
              type="checkbox"
              checked={state.includeHidden}
              onChange={e => set('includeHidden', e.target.checked)}
            />
            <label htmlFor={id('include_hidden')}>
              Include hidden files (names starting with a dot)
            </label>
            {err('include_hidden')}
          </div>
        ) : null}
      </fieldset>

      <fieldset disabled={sharing} className="jp-DataShare-fieldset">
        <legend>Licence</legend>
        <div
          role="radiogroup"
          aria-label="Licence"
          className="jp-DataShare-choices"
          data-field="license"
          tabIndex={-1}
          onChange={() => clear('license')}
        >
          {LICENCES.map(l => (
            <div className="jp-DataShare-choice" key={l.id}>
              <input
                type="radio"
                id={id(`license-${l.id}`)}
                name={`${uid}-license`}
                value={l.id}
                checked={state.licence === l.id}
                onChange={() => set('licence', l.id)}
                aria-describedby={id(`license-${l.id}-summary`)}
              />
              <label htmlFor={id(`license-${l.id}`)}>
                <span className="jp-DataShare-choiceName">{l.name}</span>
                <span
                  className="jp-DataShare-choiceSummary"
                  id={id(`license-${l.id}-summary`)}
                >
                  {l.summary}
                </span>
              </label>
            </div>
          ))}
        </div>
        {state.licence === CUSTOM_LICENCE ? (
          <div className="jp-DataShare-subfields">
            <div className="jp-DataShare-field">
              <label htmlFor={id('license')}>Licence identifier</label>
              <input
                {...control('license')}
                className="jp-mod-styled"
                value={state.customLicenceId}
                placeholder="e.g. ODbL-1.0 or LicenseRef-my-terms"
                onChange={e => set('customLicenceId', e.target.value)}
              />
            </div>
            <div className="jp-DataShare-field">
              <label htmlFor={id('license_text')}>Licence text</label>
              <textarea
                {...control('license_text')}
                className="jp-mod-styled jp-DataShare-textarea"
                rows={4}
                value={state.licenceText}
                onChange={e => set('licenceText', e.target.value)}
              />
              {err('license_text')}
            </div>
          </div>
        ) : null}
        {err('license')}
      </fieldset>

      <fieldset disabled={sharing} className="jp-DataShare-fieldset">
        <legend>Access</legend>
        <div
          role="radiogroup"
          aria-label="Access level"
          className="jp-DataShare-choices"
          data-field="access.level"
          tabIndex={-1}
          onChange={() => clear('access')}
        >
          {LEVELS.map(l => (
            <div className="jp-DataShare-choice" key={l.id}>
              <input
                type="radio"
                id={id(`level-${l.id}`)}
                name={`${uid}-level`}
                value={l.id}
                checked={state.level === l.id}
                onChange={() => set('level', l.id)}
                aria-describedby={id(`level-${l.id}-summary`)}
              />
              <label htmlFor={id(`level-${l.id}`)}>
                <span className="jp-DataShare-choiceName">
                  <LevelBadge
                    access={{
                      level: l.id,
                      level_in_force: l.id,
                      embargo_until: null,
                      after_embargo: null
                    }}
                  />
                </span>
                <span
                  className="jp-DataShare-choiceSummary"
                  id={id(`level-${l.id}-summary`)}
                >
                  {l.summary}
                </span>
              </label>
            </div>
          ))}
        </div>
        {err('access.level')}
        {err('access')}
        {state.level === 'embargoed' ? (
          <div className="jp-DataShare-subfields jp-DataShare-fieldRow">
            <div className="jp-DataShare-field">
              <label htmlFor={id('access.embargo_until')}>Embargo until</label>
              <input
                {...control('access.embargo_until')}
                type="date"
                className="jp-mod-styled"
                value={state.embargoUntil}
                onChange={e => set('embargoUntil', e.target.value)}
              />
              <div className="jp-DataShare-hint">
                The files open at 00:00 UTC on this day.
              </div>
              {err('access.embargo_until')}
            </div>
            <div className="jp-DataShare-field">
              <label htmlFor={id('access.after_embargo')}>Then</label>
              <select
                {...control('access.after_embargo')}
                className="jp-mod-styled"
                value={state.afterEmbargo}
                onChange={e => set('afterEmbargo', e.target.value as Level)}
              >
                {AFTER_EMBARGO.map(a => (
                  <option key={a.id} value={a.id}>
                    {a.name}: {a.summary}
                  </option>
                ))}
              </select>
              {err('access.after_embargo')}
            </div>
          </div>
        ) : null}
      </fieldset>

      {committee ? (
        <CommitteeEditor
          state={state}
          set={set}
          clear={clear}
          control={control}
          err={err}
          id={id}
          uid={uid}
          disabled={sharing}
        />
      ) : null}

      <div className="jp-DataShare-formFooter">
        {sharing && job ? (
          <JobProgress job={job} elapsed={now - started} id={id('progress')} />
        ) : sharing ? (
          <Busy
            label={`Freezing ${
              scan ? `${scan.partial ? 'at least ' : ''}${plural(scan.files, 'file')} (${formatBytes(scan.bytes)})` : `the ${what}`
            }… ${formatElapsed(now - started)} elapsed`}
          />
        ) : (
          <span className="jp-DataShare-hint">
            The server checks every field; problems show next to the field.
          </span>
        )}
        <span className="jp-DataShare-spacer" />
        {sharing ? (
          <button
            type="button"
            className={BUTTON.plain}
            onClick={() => stopRef.current?.abort()}
            data-testid="datashare-share-stop"
          >
            Stop sharing
          </button>
        ) : props.onClose ? (
          <button type="button" className={BUTTON.plain} onClick={props.onClose}>
            Cancel
          </button>
        ) : null}
        <button
          type="submit"
          className={BUTTON.accept}
          disabled={sharing}
          data-testid="datashare-share-submit"
        >
          {sharing ? 'Sharing…' : 'Share'}
        </button>
      </div>
    </form>
  );
}

/** How far the freeze got: a progress bar and "2 of 5 files, 1.5 of 12 MiB". */
function JobProgress(props: { job: IJob; elapsed: number; id: string }): JSX.Element {
  const { job } = props;
  const text = describeProgress(job);
  return (
    // No live region: the numbers change several times a second; the bar carries them instead.
    <span className="jp-DataShare-busy">
      <progress
        id={props.id}
        aria-label="Sharing progress"
        aria-valuetext={text}
        max={1}
        value={progressFraction(job)}
        style={{ width: '10em' }}
      />
      <span data-testid="datashare-share-progress">{text}</span>
      <span className="jp-DataShare-hint">· {formatElapsed(props.elapsed)} elapsed</span>
    </span>
  );
}

type ControlFn = (field: string) => Record<string, unknown>;
type ErrFn = (field: string) => JSX.Element;
type IdFn = (field: string) => string;

function CreatorsEditor(props: {
  rows: ICreatorRow[];
  onChange: (rows: ICreatorRow[]) => void;
  control: ControlFn;
  err: ErrFn;
  id: IdFn;
}): JSX.Element {
  const { rows, onChange, control, err, id } = props;
  const update = (i: number, patch: Partial<ICreatorRow>) =>
    onChange(rows.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  return (
    <div className="jp-DataShare-field" role="group" aria-label="Creators">
      <div className="jp-DataShare-groupLabel">Creators</div>
      {rows.map((row, i) => {
        const f = `creators[${i}]`;
        return (
          <div className="jp-DataShare-row" key={i} data-field={f} tabIndex={-1}>
            <div className="jp-DataShare-field">
              <label htmlFor={id(`${f}.name`)}>Name</label>
              <input
                {...control(`${f}.name`)}
                className="jp-mod-styled"
                value={row.name}
                placeholder={i === 0 ? CREATOR_HINT : 'Name as it should appear in the citation'}
                onChange={e => update(i, { name: e.target.value })}
              />
              {err(`${f}.name`)}
            </div>
            <div className="jp-DataShare-field">
              <label htmlFor={id(`${f}.orcid`)}>ORCID iD</label>
              <input
                {...control(`${f}.orcid`)}
                className="jp-mod-styled"
                value={row.orcid}
                placeholder="0000-0000-0000-0000"
                onChange={e => update(i, { orcid: e.target.value })}
              />
              {err(`${f}.orcid`)}
            </div>
            <div className="jp-DataShare-field">
              <label htmlFor={id(`${f}.affiliation`)}>Affiliation</label>
              <input
                {...control(`${f}.affiliation`)}
                className="jp-mod-styled"
                value={row.affiliation}
                onChange={e => update(i, { affiliation: e.target.value })}
              />
              {err(`${f}.affiliation`)}
            </div>
            <button
              type="button"
              className="jp-DataShare-iconButton jp-DataShare-rowRemove"
              aria-label={`Remove creator ${i + 1}`}
              title="Remove"
              onClick={() => onChange(rows.filter((_, j) => j !== i))}
            >
              <closeIcon.react tag="span" />
            </button>
            {err(f)}
          </div>
        );
      })}
      <button
        type="button"
        className="jp-DataShare-linkButton"
        onClick={() => onChange([...rows, emptyCreator()])}
      >
        <addIcon.react tag="span" /> Add creator
      </button>
    </div>
  );
}

function CommitteeEditor(props: {
  state: IShareFormState;
  set: <K extends keyof IShareFormState>(key: K, value: IShareFormState[K]) => void;
  clear: (field: string) => void;
  control: ControlFn;
  err: ErrFn;
  id: IdFn;
  uid: string;
  disabled: boolean;
}): JSX.Element {
  const { state, set, clear, control, err, id, uid, disabled } = props;
  const members = state.members;
  const update = (i: number, patch: Partial<IMemberRow>) =>
    set(
      'members',
      members.map((m, j) => (j === i ? { ...m, ...patch } : m))
    );
  const toggleModifier = (code: string, on: boolean) =>
    set(
      'duoModifiers',
      on
        ? [...state.duoModifiers, code]
        : state.duoModifiers.filter(c => c !== code)
    );
  return (
    <fieldset disabled={disabled} className="jp-DataShare-fieldset">
      <legend>Data access committee</legend>
      <p className="jp-DataShare-hint">
        Requests for the files are decided by this committee. You may sit on it, but only
        members other than you count towards the required approvals: you are never the only
        person who controls access. External members get a personal link, shown once after
        sharing.
      </p>
      <div
        className="jp-DataShare-field"
        role="group"
        aria-label="Committee members"
        data-field="committee.members"
        tabIndex={-1}
        onChange={() => clear('committee.members')}
      >
        <div className="jp-DataShare-groupLabel">Members</div>
        {members.length === 0 ? (
          <div className="jp-DataShare-hint">No members yet.</div>
        ) : null}
        {members.map((m, i) => {
          const f = `committee.members[${i}]`;
          return (
            <div className="jp-DataShare-row" key={i} data-field={f} tabIndex={-1}>
              <div className="jp-DataShare-field jp-DataShare-narrow">
                <label htmlFor={id(`${f}.kind`)}>Member {i + 1}</label>
                <select
                  id={id(`${f}.kind`)}
                  className="jp-mod-styled"
                  value={m.kind}
                  onChange={e =>
                    update(i, { kind: e.target.value as IMemberRow['kind'] })
                  }
                >
                  <option value="jupyter">Jupyter user</option>
                  <option value="external">External</option>
                </select>
              </div>
              {m.kind === 'jupyter' ? (
                <div className="jp-DataShare-field">
                  <label htmlFor={id(`${f}.username`)}>Jupyter username</label>
                  <input
                    {...control(`${f}.username`)}
                    className="jp-mod-styled"
                    value={m.username}
                    onChange={e => update(i, { username: e.target.value })}
                  />
                  {err(`${f}.username`)}
                </div>
              ) : (
                <>
                  <div className="jp-DataShare-field">
                    <label htmlFor={id(`${f}.name`)}>Name</label>
                    <input
                      {...control(`${f}.name`)}
                      className="jp-mod-styled"
                      value={m.name}
                      onChange={e => update(i, { name: e.target.value })}
                    />
                    {err(`${f}.name`)}
                  </div>
                  <div className="jp-DataShare-field">
                    <label htmlFor={id(`${f}.email`)}>E-mail</label>
                    <input
                      {...control(`${f}.email`)}
                      type="email"
                      className="jp-mod-styled"
                      value={m.email}
                      onChange={e => update(i, { email: e.target.value })}
                    />
                    {err(`${f}.email`)}
                  </div>
                </>
              )}
              <button
                type="button"
                className="jp-DataShare-iconButton jp-DataShare-rowRemove"
                aria-label={`Remove member ${i + 1}`}
                title="Remove"
                onClick={() => set('members', members.filter((_, j) => j !== i))}
              >
                <closeIcon.react tag="span" />
              </button>
              {err(f)}
            </div>
          );
        })}
        <div className="jp-DataShare-buttons">
          <button
            type="button"
            className="jp-DataShare-linkButton"
            onClick={() => set('members', [...members, emptyMember('jupyter')])}
          >
            <addIcon.react tag="span" /> Add Jupyter user
          </button>
          <button
            type="button"
            className="jp-DataShare-linkButton"
            onClick={() => set('members', [...members, emptyMember('external')])}
          >
            <addIcon.react tag="span" /> Add external member
          </button>
        </div>
        {err('committee.members')}
        {err('committee')}
      </div>
      <div className="jp-DataShare-fieldRow">
        <div className="jp-DataShare-field jp-DataShare-narrow">
          <label htmlFor={id('committee.required_approvals')}>Required approvals</label>
          <input
            {...control('committee.required_approvals')}
            type="number"
            min={1}
            className="jp-mod-styled"
            value={state.requiredApprovals}
            onChange={e => set('requiredApprovals', e.target.value)}
          />
          {err('committee.required_approvals')}
        </div>
        <div
          className="jp-DataShare-field"
          role="radiogroup"
          aria-label="Decision rule"
          data-field="committee.rule"
          tabIndex={-1}
          onChange={() => clear('committee.rule')}
        >
          <div className="jp-DataShare-groupLabel">Decision rule</div>
          {RULES.map(r => (
            <div className="jp-DataShare-choice" key={r.id}>
              <input
                type="radio"
                id={id(`rule-${r.id}`)}
                name={`${uid}-rule`}
                checked={state.rule === r.id}
                onChange={() => set('rule', r.id)}
              />
              <label htmlFor={id(`rule-${r.id}`)}>
                <span className="jp-DataShare-choiceName">{r.name}</span>
                <span className="jp-DataShare-choiceSummary">{r.summary}</span>
              </label>
            </div>
          ))}
          {err('committee.rule')}
        </div>
      </div>

      <div
        className="jp-DataShare-field"
        role="group"
        aria-label="Data use conditions"
        data-field="use_conditions"
        tabIndex={-1}
        onChange={() => clear('use_conditions')}
      >
        <div className="jp-DataShare-groupLabel">
          Data use conditions (GA4GH DUO codes)
        </div>
        <div className="jp-DataShare-fieldRow">
          <div className="jp-DataShare-field">
            <label htmlFor={id('duo-primary')}>Permitted use</label>
            <select
              id={id('duo-primary')}
              className="jp-mod-styled"
              value={state.duoPrimary}
              onChange={e => set('duoPrimary', e.target.value)}
            >
              <option value="">No primary condition</option>
              {DUO_PRIMARY.map(c => (
                <option key={c.id} value={c.id}>
                  {c.id}: {c.summary}
                </option>
              ))}
            </select>
          </div>
          {state.duoPrimary === 'DS' ? (
            <div className="jp-DataShare-field">
              <label htmlFor={id('duo-disease')}>Disease term</label>
              <input
                id={id('duo-disease')}
                className="jp-mod-styled"
                value={state.diseaseTerm}
                placeholder="MONDO:0005148"
                onChange={e => set('diseaseTerm', e.target.value)}
              />
            </div>
          ) : null}
        </div>
        <div className="jp-DataShare-modifiers">
          {DUO_MODIFIERS.map(c => (
            <div className="jp-DataShare-check" key={c.id}>
              <input
                type="checkbox"
                id={id(`duo-${c.id}`)}
                checked={state.duoModifiers.includes(c.id)}
                onChange={e => toggleModifier(c.id, e.target.checked)}
              />
              <label htmlFor={id(`duo-${c.id}`)}>
                <strong>{c.id}</strong> {c.summary}
              </label>
            </div>
          ))}
        </div>
        {err('use_conditions')}
      </div>

      <div className="jp-DataShare-field">
        <label htmlFor={id('agreement')}>Data use agreement</label>
        <textarea
          {...control('agreement')}
          className="jp-mod-styled jp-DataShare-textarea"
          rows={5}
          value={state.agreement}
          placeholder="The terms a requester must accept (its exact text is recorded with each request)."
          onChange={e => set('agreement', e.target.value)}
        />
        {err('agreement')}
      </div>
    </fieldset>
  );
}

function ShareDone(props: {
  client: DataShareClient;
  result: ShareResult;
  elapsed: number;
  onOpenDataset?: (id: string) => void;
  onClose?: () => void;
}): JSX.Element {
  const { result, client } = props;
  const landing = client.absolute(result.landing_page);
  return (
    <div className="jp-DataShare-form jp-DataShare-done" data-testid="datashare-share-done">
      <h2>Shared as {result.id}</h2>
      <Banner kind="success">
        <strong>{result.title}</strong> was frozen as version {result.version}:{' '}
        <span data-testid="datashare-share-summary">
          {plural(result.file_count, 'file')}, {formatBytes(result.total_size)}
        </span>
        , in {formatElapsed(props.elapsed)}.
      </Banner>
      <dl className="jp-DataShare-dl">
        <dt>Access</dt>
        <dd>
          <LevelBadge access={result.access} />
        </dd>
        <dt>Licence</dt>
        <dd>{result.license.name}</dd>
        <dt>Landing page</dt>
        <dd>
          {result.access.level_in_force === 'reviewer-only' ? (
            <span className="jp-DataShare-hint">
              None in public: reviewer-only datasets are seen through review links.
            </span>
          ) : (
            <a href={landing} target="_blank" rel="noreferrer noopener">
              {landing}
            </a>
          )}
        </dd>
      </dl>
      {result.committee_links.length ? (
        <div className="jp-DataShare-committeeLinks" data-testid="datashare-committee-links">
          <h3>Personal links of the external committee members</h3>
          <p className="jp-DataShare-hint">
            Send each member their own link: with it they read and decide the requests. The
            links are shown only now.
          </p>
          {result.committee_links.map(l => (
            <ShownOnce
              key={l.member_id}
              label={`${l.name} <${l.email}>`}
              value={l.url}
              note=""
            />
          ))}
        </div>
      ) : null}
      <div className="jp-DataShare-formFooter">
        <span className="jp-DataShare-spacer" />
        {props.onClose ? (
          <button type="button" className={BUTTON.plain} onClick={props.onClose}>
            Close
          </button>
        ) : null}
        {props.onOpenDataset ? (
          <button
            type="button"
            className={BUTTON.accept}
            onClick={() => props.onOpenDataset?.(result.id)}
          >
            Open in Data sharing
          </button>
        ) : null}
      </div>
    </div>
  );
}
