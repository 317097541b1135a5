/**
 * Review links of a dataset: the form that makes one (its URL shown once), and the list with
 * use counts and revocation.
 */
import { Dialog, showDialog } from '@jupyterlab/apputils';
import * as React from 'react';

import { DataShareClient, errorForForm } from '../api';
import { countdown, formatDateTime, plural, timeAgo } from '../format';
import type { DataShareModel } from '../model';
import type { DatasetDetail, NewLink, ReviewLink } from '../types';
import { Banner, BUTTON, FieldError, ShownOnce, StateBadge } from './common';

const LINK_FIELDS = ['label', 'expires_in_days', 'anonymous', 'allow_restricted', 'version'];

export function LinksSection(props: {
  client: DataShareClient;
  model: DataShareModel;
  detail: DatasetDetail;
  links: ReviewLink[];
  autoFocus: boolean;
  onChanged: () => Promise<void>;
  now: number;
}): JSX.Element {
  const { client, detail, model } = props;
  const prefs = model.preferences;
  const uid = React.useId().replace(/:/g, '');
  const [label, setLabel] = React.useState('');
  const [days, setDays] = React.useState(String(prefs.defaultLinkDays));
  const [anonymous, setAnonymous] = React.useState(prefs.anonymousLinks);
  const [allowRestricted, setAllowRestricted] = React.useState(false);
  const [version, setVersion] = React.useState(detail.latest_version);
  const [busy, setBusy] = React.useState(false);
  const [error, setError] = React.useState<{ field: string; message: string } | null>(null);
  const [created, setCreated] = React.useState<NewLink | null>(null);
  const [showOld, setShowOld] = React.useState(false);
  const labelRef = React.useRef<HTMLInputElement>(null);
  const restricted = detail.access.level_in_force === 'restricted';

  React.useEffect(() => {
    if (props.autoFocus) {
      labelRef.current?.focus();
    }
  }, [props.autoFocus]);
  React.useEffect(() => setDays(String(prefs.defaultLinkDays)), [prefs.defaultLinkDays]);
  React.useEffect(() => setVersion(detail.latest_version), [detail.latest_version]);

  const create = async (e: React.FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const n = Number(days);
      const out = await client.createLink(detail.id, {
        label,
        expires_in_days: days.trim() && Number.isFinite(n) ? n : (days as unknown as number),
        anonymous,
        allow_restricted: restricted ? allowRestricted : undefined,
        version
      });
      setCreated(out);
      setLabel('');
      await props.onChanged();
    } catch (reason) {
      setError(errorForForm(reason, LINK_FIELDS));
    } finally {
      setBusy(false);
    }
  };

  const revoke = async (link: ReviewLink) => {
    const ok = await showDialog({
      title: 'Revoke this review link?',
      body: `"${link.label || link.id}" stops working at once; whoever holds it gets "not found".`,
      buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: 'Revoke' })]
    });
    if (!ok.button.accept) {
      return;
    }
    try {
      await client.revokeLink(link.id);
      if (created?.id === link.id) {
        setCreated(null);
      }
      await props.onChanged();
    } catch (e) {
      setError({ field: '', message: (e as Error).message });
    }
  };

  const f = (name: string) => `${uid}-${name}`;
  const errAttrs = (name: string) => ({
    'aria-invalid': error?.field === name ? true : undefined,
    'aria-describedby': error?.field === name ? `${f(name)}-error` : undefined
  });
  const active = props.links.filter(l => l.state === 'active');
  const old = props.links.filter(l => l.state !== 'active');

  return (
    <div>
      <form
        className="jp-DataShare-linkForm"
        onSubmit={create}
        noValidate
        aria-label="New review link"
      >
        <div className="jp-DataShare-field">
          <label htmlFor={f('label')}>Label</label>
          <input
            ref={labelRef}
            id={f('label')}
            className="jp-mod-styled"
            value={label}
            placeholder="e.g. Reviewer 2, Nature Methods"
            onChange={e => setLabel(e.target.value)}
            {...errAttrs('label')}
          />
          <FieldError id={`${f('label')}-error`} message={error?.field === 'label' ? error.message : null} />
        </div>
        <div className="jp-DataShare-fieldRow">
          <div className="jp-DataShare-field jp-DataShare-narrow">
            <label htmlFor={f('days')}>Expires in (days)</label>
            <input
              id={f('days')}
              type="number"
              min={1}
              className="jp-mod-styled"
              value={days}
              onChange={e => setDays(e.target.value)}
              {...errAttrs('expires_in_days')}
            />
            <FieldError
              id={`${f('expires_in_days')}-error`}
              message={error?.field === 'expires_in_days' ? error.message : null}
            />
          </div>
          {detail.versions.length > 1 ? (
            <div className="jp-DataShare-field jp-DataShare-narrow">
              <label htmlFor={f('version')}>Version</label>
              <select
                id={f('version')}
                className="jp-mod-styled"
                value={version}
                onChange={e => setVersion(Number(e.target.value))}
                {...errAttrs('version')}
              >
                {detail.versions
                  .slice()
                  .reverse()
                  .map(v => (
                    <option key={v.number} value={v.number}>
                      {v.number}
                    </option>
                  ))}
              </select>
              <FieldError
                id={`${f('version')}-error`}
                message={error?.field === 'version' ? error.message : null}
              />
            </div>
          ) : null}
        </div>
        <div className="jp-DataShare-check">
          <input
            id={f('anonymous')}
            type="checkbox"
            checked={anonymous}
            onChange={e => setAnonymous(e.target.checked)}
            {...errAttrs('anonymous')}
          />
          <label htmlFor={f('anonymous')}>
            Anonymous: no creators, owner or affiliation anywhere (double-blind review)
          </label>
        </div>
        {restricted ? (
          <div className="jp-DataShare-check">
            <input
              id={f('allow_restricted')}
              type="checkbox"
              checked={allowRestricted}
              onChange={e => setAllowRestricted(e.target.checked)}
              {...errAttrs('allow_restricted')}
            />
            <label htmlFor={f('allow_restricted')}>
              Let this link open the restricted files (without a committee decision)
            </label>
          </div>
        ) : null}
        <FieldError
          id={`${f('allow_restricted')}-error`}
          message={error?.field === 'allow_restricted' ? error.message : null}
        />
        {error && !error.field ? <Banner kind="error">{error.message}</Banner> : null}
        <button
          type="submit"
          className={BUTTON.accept}
          disabled={busy}
          data-testid="datashare-create-link"
        >
          {busy ? 'Creating…' : 'Create review link'}
        </button>
      </form>
      {created ? (
        <div data-testid="datashare-new-link">
          <ShownOnce
            label={`Review link “${created.label || created.id}”`}
            value={created.url}
            testId="datashare-new-link-url"
          />
          <button
            type="button"
            className="jp-DataShare-linkButton"
            onClick={() => setCreated(null)}
          >
            I have copied it
          </button>
        </div>
      ) : null}
      <ul className="jp-DataShare-list" aria-label="Review links">
        {active.length === 0 ? <li className="jp-DataShare-empty">No active review links.</li> : null}
        {active.map(l => (
          <LinkRow key={l.id} link={l} now={props.now} onRevoke={() => void revoke(l)} />
        ))}
      </ul>
      {old.length ? (
        <>
          <button
            type="button"
            className="jp-DataShare-linkButton"
            aria-expanded={showOld}
            onClick={() => setShowOld(!showOld)}
          >
            {showOld ? 'Hide' : 'Show'} {plural(old.length, 'revoked or expired link')}
          </button>
          {showOld ? (
            <ul className="jp-DataShare-list">
              {old.map(l => (
                <LinkRow key={l.id} link={l} now={props.now} />
              ))}
            </ul>
          ) : null}
        </>
      ) : null}
    </div>
  );
}

function LinkRow(props: { link: ReviewLink; now: number; onRevoke?: () => void }): JSX.Element {
  const l = props.link;
  const expiry =
    l.state === 'active'
      ? `expires ${countdown(l.expires_at, props.now) ?? 'now'}`
      : l.state === 'revoked'
        ? `revoked ${formatDateTime(l.revoked_at)}`
        : `expired ${formatDateTime(l.expires_at)}`;
  return (
    <li className="jp-DataShare-card jp-DataShare-link" data-link={l.id} data-state={l.state}>
      <div className="jp-DataShare-cardHeader">
        <span className="jp-DataShare-cardTitle">{l.label || '(no label)'}</span>
        <StateBadge state={l.state} />
        {l.anonymous ? <span className="jp-DataShare-tag">anonymous</span> : null}
        {l.allow_restricted ? <span className="jp-DataShare-tag">opens restricted files</span> : null}
      </div>
      <div className="jp-DataShare-meta" title={`Expires ${formatDateTime(l.expires_at)}`}>
        v{l.version} · {expiry}
      </div>
      <div className="jp-DataShare-meta">
        used <span data-testid="datashare-link-uses">{plural(l.use_count, 'time')}</span>
        {l.last_used_at ? ` · last ${timeAgo(l.last_used_at, props.now)}` : ''}
      </div>
      {props.onRevoke ? (
        <button
          type="button"
          className={BUTTON.warn + ' jp-DataShare-small'}
          onClick={props.onRevoke}
          aria-label={`Revoke the review link ${l.label || l.id}`}
        >
          Revoke
        </button>
      ) : null}
    </li>
  );
}
