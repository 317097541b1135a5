/**
 * One dataset as its owner manages it: files, versions, review links, access requests, grants,
 * committee, audit events, and withdrawal.
 */
import { Dialog, showDialog } from '@jupyterlab/apputils';
import {
  caretLeftIcon,
  downloadIcon,
  refreshIcon
} from '@jupyterlab/ui-components';
import * as React from 'react';

import { DataShareClient, DataShareError, errorForForm } from '../api';
import {
  countdown,
  formatBytes,
  formatDate,
  formatDateTime,
  plural,
  shortHash,
  timeAgo
} from '../format';
import type { DataShareModel, SectionName } from '../model';
import type {
  AccessRequest,
  AuditEvent,
  CommitteeInfo,
  DatasetDetail,
  Grant,
  NewLink,
  ReviewLink
} from '../types';
import {
  Banner,
  BUTTON,
  Busy,
  CopyButton,
  FieldError,
  LevelBadge,
  saveBlob,
  Section,
  ShownOnce,
  StateBadge,
  useNow
} from './common';
import { RequestList } from './Requests';

export interface IDatasetViewProps {
  model: DataShareModel;
  id: string;
  focusSection: SectionName | null;
  focusNonce: number;
  onBack: () => void;
  onOpenAudit: (datasetId: string) => void;
}

interface IData {
  detail: DatasetDetail;
  links: ReviewLink[];
  grants: Grant[] | null;
  committee: CommitteeInfo | null;
  events: AuditEvent[];
}

const isRestrictedish = (d: DatasetDetail) =>
  d.access.level === 'restricted' ||
  d.access.level_in_force === 'restricted' ||
  d.access.after_embargo === 'restricted';

export function DatasetView(props: IDatasetViewProps): JSX.Element {
  const { model, id } = props;
  const client = model.client;
  const [data, setData] = React.useState<IData | null>(null);
  const [error, setError] = React.useState<string | null>(null);
  const [loading, setLoading] = React.useState(false);
  const now = useNow(30_000);

  const load = React.useCallback(async () => {
    setLoading(true);
    try {
      const detail = await client.getDataset(id);
      const restricted = isRestrictedish(detail);
      const optional = <T,>(p: Promise<T>) =>
        p.catch((e: unknown) => {
          if (e instanceof DataShareError && (e.status === 404 || e.status === 403)) {
            return null;
          }
          throw e;
        });
      const [links, grants, committee, events] = await Promise.all([
        detail.withdrawn ? Promise.resolve([]) : client.listLinks(id),
        restricted ? optional(client.listGrants(id)) : Promise.resolve(null),
        restricted ? optional(client.committee(id)) : Promise.resolve(null),
        client.audit({ dataset: id, limit: 50 })
      ]);
      setData({ detail, links, grants, committee, events });
      setError(null);
    } catch (e) {
      setError((e as Error).message ?? String(e));
    } finally {
      setLoading(false);
    }
  }, [client, id]);

  React.useEffect(() => {
    void load();
    const onData = () => void load();
    model.dataChanged.connect(onData);
    return () => {
      model.dataChanged.disconnect(onData);
    };
  }, [load, model]);

  const changed = async () => {
    await model.invalidate();
  };

  // A command asking for a section remounts it open (the key changes with every request).
  const sectionKey = (name: SectionName) =>
    props.focusSection === name ? `${name}-${props.focusNonce}` : name;
  const forced = (name: SectionName) => (props.focusSection === name ? true : undefined);

  const back = (
    <button
      type="button"
      className="jp-DataShare-linkButton jp-DataShare-back"
      onClick={props.onBack}
      aria-label="Back to all datasets"
    >
      <caretLeftIcon.react tag="span" /> All datasets
    </button>
  );

  if (!data) {
    return (
      <div className="jp-DataShare-datasetView">
        {back}
        {error ? <Banner kind="error">{error}</Banner> : <Busy label="Loading…" />}
      </div>
    );
  }
  const d = data.detail;
  const requests = model.requests.filter(r => r.dataset_id === id);
  const landing = client.absolute(d.landing_page);

  return (
    <div className="jp-DataShare-datasetView" data-dataset={d.id}>
      <div className="jp-DataShare-viewBar">
        {back}
        <span className="jp-DataShare-spacer" />
        <button
          type="button"
          className="jp-DataShare-iconButton"
          aria-label="Reload this dataset"
          title="Reload"
          onClick={() => void load()}
          disabled={loading}
        >
          <refreshIcon.react tag="span" />
        </button>
      </div>
      <h2 className="jp-DataShare-datasetTitle">{d.title}</h2>
      <div className="jp-DataShare-meta jp-DataShare-idLine">
        <LevelBadge access={d.access} now={now} />
        <code>{d.id}</code>
        <CopyButton text={d.id} label="Copy the dataset id" />
      </div>
      {error ? <Banner kind="error">{error}</Banner> : null}
      {d.withdrawn ? (
        <Banner kind="warning">
          Withdrawn {formatDateTime(d.withdrawn_at)}
          {d.withdrawal_reason ? `: ${d.withdrawal_reason}` : ''}
        </Banner>
      ) : null}
      <dl className="jp-DataShare-dl">
        <dt>Version</dt>
        <dd>
          {d.latest_version} · {plural(d.file_count, 'file')} · {formatBytes(d.total_size)}
        </dd>
        {d.access.level === 'embargoed' ? (
          <>
            <dt>Embargo</dt>
            <dd>
              until {formatDate(d.access.embargo_until)} (
              {countdown(d.access.embargo_until, now) ?? 'ended'}), then{' '}
              {d.access.after_embargo}
            </dd>
          </>
        ) : null}
        <dt>Licence</dt>
        <dd>{d.license.name}</dd>
        <dt>Source</dt>
        <dd>
          <code>{d.source_path || '(server root)'}</code>
        </dd>
        <dt>Shared</dt>
        <dd title={formatDateTime(d.created_at)}>{timeAgo(d.created_at, now)}</dd>
        {d.access.level_in_force !== 'reviewer-only' && !d.withdrawn ? (
          <>
            <dt>Landing page</dt>
            <dd className="jp-DataShare-urlCell">
              <a href={landing} target="_blank" rel="noreferrer noopener">
                {landing}
              </a>
              <CopyButton text={landing} label="Copy the landing page address" />
            </dd>
          </>
        ) : null}
      </dl>

      <Section key={sectionKey('files')} id="files" title="Files" count={d.file_count} open={forced('files')}>
        <FilesSection client={client} detail={d} />
      </Section>
      <Section key={sectionKey('versions')} id="versions" title="Versions" count={d.versions.length} open={forced('versions')}>
        <VersionsSection client={client} detail={d} onChanged={changed} />
      </Section>
      {!d.withdrawn ? (
        <Section
          key={sectionKey('links')}
          id="links"
          title="Review links"
          count={data.links.filter(l => l.state === 'active').length}
          open={forced('links')}
        >
          <LinksSection
            client={client}
            detail={d}
            links={data.links}
            model={model}
            autoFocus={props.focusSection === 'links'}
            onChanged={changed}
            now={now}
          />
        </Section>
      ) : null}
      {isRestrictedish(d) || requests.length ? (
        <Section
          key={sectionKey('requests')}
          id="requests"
          title="Access requests"
          count={requests.filter(r => r.status === 'pending').length}
          open={forced('requests')}
        >
          <RequestList
            client={client}
            requests={requests}
            onDecided={() => void changed()}
          />
        </Section>
      ) : null}
      {data.grants ? (
        <Section
          key={sectionKey('grants')}
          id="grants"
          title="Grants"
          count={data.grants.filter(g => g.state === 'active').length}
          open={forced('grants')}
        >
          <GrantsSection
            client={client}
            grants={data.grants}
            requests={requests}
            onChanged={changed}
            now={now}
          />
        </Section>
      ) : null}
      {data.committee ? (
        <Section
          key={sectionKey('committee')}
          id="committee"
          title="Committee"
          count={data.committee.members.length}
          open={forced('committee')}
        >
          <CommitteeSection committee={data.committee} />
        </Section>
      ) : null}
      <Section key={sectionKey('events')} id="events" title="Audit events" count={data.events.length} open={forced('events')}>
        <EventList events={data.events} now={now} />
        <button
          type="button"
          className="jp-DataShare-linkButton"
          onClick={() => props.onOpenAudit(d.id)}
        >
          Open in the audit log
        </button>
      </Section>
      {!d.withdrawn ? (
        <Section key={sectionKey('withdraw')} id="withdraw" title="Withdraw" open={forced('withdraw')}>
          <WithdrawSection
            client={client}
            detail={d}
            onWithdrawn={async () => {
              await changed();
              props.onBack();
            }}
          />
        </Section>
      ) : null}
    </div>
  );
}

function FilesSection(props: {
  client: DataShareClient;
  detail: DatasetDetail;
}): JSX.Element {
  const { client } = props;
  const [version, setVersion] = React.useState(props.detail.latest_version);
  const [shown, setShown] = React.useState<DatasetDetail>(props.detail);
  const [error, setError] = React.useState<string | null>(null);
  const selectId = React.useId();

  React.useEffect(() => {
    setShown(props.detail);
    setVersion(props.detail.latest_version);
  }, [props.detail]);

  const pick = async (n: number) => {
    setVersion(n);
    try {
      setShown(
        n === props.detail.version ? props.detail : await client.getDataset(props.detail.id, n)
      );
      setError(null);
    } catch (e) {
      setError((e as Error).message);
    }
  };

  const download = async (path: string) => {
    try {
      const response = await client.downloadFile(shown.id, path, shown.version);
      saveBlob(await response.blob(), path.split('/').pop() || 'download');
    } catch (e) {
      setError((e as Error).message);
    }
  };

  return (
    <div>
      {props.detail.versions.length > 1 ? (
        <div className="jp-DataShare-inline">
          <label htmlFor={selectId}>Version</label>
          <select
            id={selectId}
            className="jp-mod-styled jp-DataShare-smallSelect"
            value={version}
            onChange={e => void pick(Number(e.target.value))}
          >
            {props.detail.versions
              .slice()
              .reverse()
              .map(v => (
                <option key={v.number} value={v.number}>
                  {v.number}
                </option>
              ))}
          </select>
        </div>
      ) : null}
      {error ? <Banner kind="error">{error}</Banner> : null}
      <ul className="jp-DataShare-list jp-DataShare-files">
        {shown.files.map(f => (
          <li key={f.path} className="jp-DataShare-file">
            <div className="jp-DataShare-fileTop">
              <span className="jp-DataShare-filePath" title={f.path}>
                {f.path}
              </span>
              <button
                type="button"
                className="jp-DataShare-iconButton"
                aria-label={`Download ${f.path}`}
                title="Download (audited)"
                onClick={() => void download(f.path)}
              >
                <downloadIcon.react tag="span" />
              </button>
            </div>
            <div className="jp-DataShare-meta jp-DataShare-fileMeta">
              <span>{formatBytes(f.size)}</span>
              <span>·</span>
              <span>sha256</span>
              <code title={f.sha256}>{shortHash(f.sha256)}</code>
              <CopyButton text={f.sha256} label={`Copy the SHA-256 of ${f.path}`} />
            </div>
          </li>
        ))}
      </ul>
    </div>
  );
}

function VersionsSection(props: {
  client: DataShareClient;
  detail: DatasetDetail;
  onChanged: () => Promise<void>;
}): JSX.Element {
  const { client, detail } = props;
  const [busy, setBusy] = React.useState(false);
  const [notice, setNotice] = React.useState<string | null>(null);
  const [error, setError] = React.useState<string | null>(null);

  const publish = async () => {
    const ok = await showDialog({
      title: 'Publish a new version?',
      body: `The current files of "${detail.source_path || '(server root)'}" will be frozen as version ${
        detail.latest_version + 1
      }. Existing review links stay bound to their version.`,
      buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Publish' })]
    });
    if (!ok.button.accept) {
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const out = await client.publishVersion(detail.id);
      setNotice(
        `Version ${out.version} published: ${plural(out.file_count, 'file')}, ${formatBytes(out.total_size)}.`
      );
      await props.onChanged();
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div>
      <ul className="jp-DataShare-list">
        {detail.versions
          .slice()
          .reverse()
          .map(v => (
            <li key={v.number} className="jp-DataShare-listRow">
              <strong>v{v.number}</strong>{' '}
              <span className="jp-DataShare-meta">
                {formatDateTime(v.created_at)} · {plural(v.file_count, 'file')} ·{' '}
                {formatBytes(v.total_size)}
              </span>
            </li>
          ))}
      </ul>
      {notice ? (
        <Banner kind="success" onDismiss={() => setNotice(null)}>
          {notice}
        </Banner>
      ) : null}
      {error ? <Banner kind="error">{error}</Banner> : null}
      {!detail.withdrawn ? (
        <button
          type="button"
          className={BUTTON.plain}
          disabled={busy}
          onClick={() => void publish()}
        >
          {busy ? 'Publishing…' : 'Publish new version'}
        </button>
      ) : null}
    </div>
  );
}

const LINK_FIELDS = ['label', 'expires_in_days', 'anonymous', 'allow_restricted', 'version'];

function LinksSection(props: {
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

function GrantsSection(props: {
  client: DataShareClient;
  grants: Grant[];
  requests: AccessRequest[];
  onChanged: () => Promise<void>;
  now: number;
}): JSX.Element {
  if (!props.grants.length) {
    return <div className="jp-DataShare-empty">No grants yet.</div>;
  }
  return (
    <ul className="jp-DataShare-list">
      {props.grants
        .slice()
        .reverse()
        .map(g => (
          <GrantRow
            key={g.id}
            client={props.client}
            grant={g}
            request={props.requests.find(r => r.id === g.request_id)}
            onChanged={props.onChanged}
            now={props.now}
          />
        ))}
    </ul>
  );
}

function GrantRow(props: {
  client: DataShareClient;
  grant: Grant;
  request?: AccessRequest;
  onChanged: () => Promise<void>;
  now: number;
}): JSX.Element {
  const { grant: g } = props;
  const uid = React.useId().replace(/:/g, '');
  const [reason, setReason] = React.useState('');
  const [open, setOpen] = React.useState(false);
  const [error, setError] = React.useState<{ field: string; message: string } | null>(null);
  const [busy, setBusy] = React.useState(false);

  const revoke = async () => {
    setBusy(true);
    setError(null);
    try {
      await props.client.revokeGrant(g.id, reason);
      await props.onChanged();
    } catch (e) {
      setError(errorForForm(e, ['reason']));
    } finally {
      setBusy(false);
    }
  };
  return (
    <li className="jp-DataShare-card" data-grant={g.id}>
      <div className="jp-DataShare-cardHeader">
        <span className="jp-DataShare-cardTitle">
          {props.request ? props.request.name : g.id}
        </span>
        <StateBadge state={g.state} />
      </div>
      <div className="jp-DataShare-meta">
        {g.id}
        {g.request_id ? ` · request ${g.request_id}` : ''}
      </div>
      <div className="jp-DataShare-meta">
        issued {formatDate(g.issued_at)} ·{' '}
        {g.state === 'active'
          ? `expires ${countdown(g.expires_at, props.now) ?? 'now'}`
          : g.state === 'revoked'
            ? `revoked${g.revoke_reason ? `: ${g.revoke_reason}` : ''}`
            : `expired ${formatDate(g.expires_at)}`}
      </div>
      <div className="jp-DataShare-meta">
        used {plural(g.use_count, 'time')}
        {g.last_used_at ? ` · last ${timeAgo(g.last_used_at, props.now)}` : ''}
        {g.renewal_requested_at ? ' · renewal requested' : ''}
      </div>
      {g.state === 'active' ? (
        open ? (
          <div className="jp-DataShare-decide">
            <label htmlFor={`${uid}-reason`}>Reason for revoking (recorded)</label>
            <textarea
              id={`${uid}-reason`}
              className="jp-mod-styled jp-DataShare-textarea"
              rows={2}
              value={reason}
              onChange={e => setReason(e.target.value)}
              aria-invalid={error?.field === 'reason' ? true : undefined}
              aria-describedby={error?.field === 'reason' ? `${uid}-reason-error` : undefined}
            />
            <FieldError
              id={`${uid}-reason-error`}
              message={error?.field === 'reason' ? error.message : null}
            />
            {error && error.field !== 'reason' ? <Banner kind="error">{error.message}</Banner> : null}
            <div className="jp-DataShare-buttons">
              <button type="button" className={BUTTON.plain} onClick={() => setOpen(false)}>
                Cancel
              </button>
              <button
                type="button"
                className={BUTTON.warn}
                disabled={busy}
                onClick={() => void revoke()}
              >
                {busy ? 'Revoking…' : 'Revoke grant'}
              </button>
            </div>
          </div>
        ) : (
          <button
            type="button"
            className={BUTTON.warn + ' jp-DataShare-small'}
            onClick={() => setOpen(true)}
            aria-label={`Revoke grant ${g.id}`}
          >
            Revoke…
          </button>
        )
      ) : null}
    </li>
  );
}

function CommitteeSection(props: { committee: CommitteeInfo }): JSX.Element {
  const c = props.committee;
  return (
    <div>
      <div className="jp-DataShare-meta">
        Rule: {c.rule} · {c.required_approvals} approval{c.required_approvals === 1 ? '' : 's'} needed
      </div>
      <ul className="jp-DataShare-list">
        {c.members.map(m => (
          <li key={m.id} className="jp-DataShare-listRow">
            <strong>{m.name}</strong>{' '}
            <span className="jp-DataShare-meta">
              {m.kind === 'jupyter' ? `Jupyter user ${m.username}` : m.email}
              {m.counts_towards_quorum ? '' : ' · you (does not count towards the quorum)'}
            </span>
          </li>
        ))}
      </ul>
    </div>
  );
}

export function EventList(props: { events: AuditEvent[]; now: number }): JSX.Element {
  if (!props.events.length) {
    return <div className="jp-DataShare-empty">No events.</div>;
  }
  return (
    <ul className="jp-DataShare-list jp-DataShare-events">
      {props.events.map(e => (
        <li key={e.seq} className="jp-DataShare-event" data-action={e.action}>
          <span className={`jp-DataShare-action jp-DataShare-outcome-${e.outcome}`}>{e.action}</span>{' '}
          <span className="jp-DataShare-meta" title={formatDateTime(e.ts)}>
            {timeAgo(e.ts, props.now)} · {e.actor}
            {e.file ? ` · ${e.file}` : ''}
            {e.reason ? ` · ${e.reason}` : ''}
          </span>
        </li>
      ))}
    </ul>
  );
}

function WithdrawSection(props: {
  client: DataShareClient;
  detail: DatasetDetail;
  onWithdrawn: () => Promise<void>;
}): JSX.Element {
  const { detail } = props;
  const uid = React.useId().replace(/:/g, '');
  const [reason, setReason] = React.useState('');
  const [busy, setBusy] = React.useState(false);
  const [error, setError] = React.useState<string | null>(null);

  const withdraw = async () => {
    const ok = await showDialog({
      title: `Withdraw "${detail.title}"?`,
      body:
        'Its files become unreadable for everyone (their encryption key is destroyed), every review ' +
        'link stops working, and the landing page becomes a tombstone. This cannot be undone.',
      buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: 'Withdraw' })]
    });
    if (!ok.button.accept) {
      return;
    }
    setBusy(true);
    try {
      await props.client.withdraw(detail.id, reason);
      await props.onWithdrawn();
    } catch (e) {
      setError((e as Error).message);
      setBusy(false);
    }
  };
  return (
    <div>
      <p className="jp-DataShare-hint">
        Withdraw a dataset that must no longer be shared (for example data shared by mistake).
        Its audit events stay.
      </p>
      <label htmlFor={`${uid}-reason`}>Reason (shown on the tombstone page)</label>
      <textarea
        id={`${uid}-reason`}
        className="jp-mod-styled jp-DataShare-textarea"
        rows={2}
        value={reason}
        onChange={e => setReason(e.target.value)}
      />
      {error ? <Banner kind="error">{error}</Banner> : null}
      <button
        type="button"
        className={BUTTON.warn}
        disabled={busy}
        onClick={() => void withdraw()}
      >
        {busy ? 'Withdrawing…' : 'Withdraw dataset…'}
      </button>
    </div>
  );
}
