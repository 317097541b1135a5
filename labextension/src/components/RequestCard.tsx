/**
 * One access request as a committee member reads it: who asks (name, institution, e-mail,
 * ORCID), for what (purpose, DUO codes against the dataset's conditions), what does not fit
 * (flags), the decisions so far, who decides; approve / deny (a denial needs a reason) for those
 * who may decide; and, for the owner, erasing the requester's personal data.
 */
import { Dialog, showDialog } from '@jupyterlab/apputils';
import * as React from 'react';

import { DataShareClient, errorForForm, IFieldError } from '../api';
import { formatDateTime, plural, shortHash, timeAgo } from '../format';
import type { AccessRequest, Decision } from '../types';
import { Banner, BUTTON, ReasonField, StateBadge } from './common';
import { ERASED } from './bulkDecisions';
import { whoDecides } from './whoDecides';

export function RequestCard(props: {
  client: DataShareClient;
  request: AccessRequest;
  showDataset?: boolean;
  /** Whether the current user owns the dataset (only the owner may erase personal data). */
  canErase?: boolean;
  selected?: boolean;
  onSelect?: (selected: boolean) => void;
  /** Why a bulk decision skipped this request. */
  bulkError?: string;
  onDecided?: (updated: AccessRequest) => void;
}): JSX.Element {
  const { request: r, client } = props;
  const uid = React.useId().replace(/:/g, '');
  const [reason, setReason] = React.useState('');
  const [busy, setBusy] = React.useState<Decision | 'erase' | null>(null);
  const [error, setError] = React.useState<IFieldError | null>(null);
  const erased = r.name === ERASED;
  const who = whoDecides(r);

  const decide = async (decision: Decision) => {
    setBusy(decision);
    setError(null);
    try {
      const updated = await client.decide(r.id, decision, reason);
      setReason('');
      props.onDecided?.(updated);
    } catch (e) {
      setError(errorForForm(e, ['reason', 'decision']));
    } finally {
      setBusy(null);
    }
  };

  const erase = async () => {
    const ok = await showDialog({
      title: `Erase the personal data of ${r.name}?`,
      body:
        `The name, e-mail, institution, ORCID and research purpose of request ${r.id} are replaced ` +
        'by “[erased]”. Its decisions, its grant and the audit log stay (the log names requests by ' +
        'id only). This cannot be undone.',
      buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: 'Erase' })]
    });
    if (!ok.button.accept) {
      return;
    }
    setBusy('erase');
    setError(null);
    try {
      props.onDecided?.(await client.erasePersonalData(r.id));
    } catch (e) {
      setError(errorForForm(e, []));
    } finally {
      setBusy(null);
    }
  };

  const reasonId = `${uid}-reason`;
  return (
    <article
      className="jp-DataShare-card jp-DataShare-request"
      aria-label={`Access request from ${r.name}`}
      data-request={r.id}
      data-status={r.status}
      data-may-decide={r.you_may_decide ? 'true' : 'false'}
    >
      <header className="jp-DataShare-cardHeader">
        {props.onSelect && r.you_may_decide ? (
          <input
            type="checkbox"
            checked={!!props.selected}
            onChange={e => props.onSelect?.(e.target.checked)}
            aria-label={`Select the request of ${r.name}`}
          />
        ) : null}
        <span className="jp-DataShare-cardTitle">{r.name}</span>
        {r.flags.length ? (
          <span className="jp-DataShare-tag jp-DataShare-flagTag" title="Does not fit the dataset's conditions">
            {plural(r.flags.length, 'conflict')}
          </span>
        ) : null}
        <StateBadge state={r.status} />
      </header>
      {props.showDataset ? (
        <div className="jp-DataShare-meta">
          For <strong>{r.dataset_title}</strong> ({r.dataset_id})
        </div>
      ) : null}
      {erased ? (
        <div className="jp-DataShare-meta">The requester's personal data was erased.</div>
      ) : (
        <dl className="jp-DataShare-dl jp-DataShare-requester" aria-label="Requester">
          <dt>Institution</dt>
          <dd>{r.institution}</dd>
          <dt>E-mail</dt>
          <dd>
            <a href={`mailto:${r.email}`}>{r.email}</a>
          </dd>
          {r.orcid ? (
            <>
              <dt>ORCID</dt>
              <dd>
                <a href={`https://orcid.org/${r.orcid}`} target="_blank" rel="noreferrer noopener">
                  {r.orcid}
                </a>
              </dd>
            </>
          ) : null}
        </dl>
      )}
      <div className="jp-DataShare-meta" title={formatDateTime(r.submitted_at)}>
        Submitted {timeAgo(r.submitted_at)} · asks for {r.requested_days} days ·{' '}
        {r.commercial ? 'commercial use' : 'non-commercial use'}
      </div>
      {erased ? null : <p className="jp-DataShare-purpose">{r.purpose}</p>}
      <div className="jp-DataShare-codes" aria-label="Intended use">
        Intended use:{' '}
        {r.intended_use.map(t => (
          <span key={t.code} className="jp-DataShare-code" title={t.meaning}>
            {t.code}
          </span>
        ))}
      </div>
      {r.conditions.length ? (
        <div className="jp-DataShare-codes" aria-label="The dataset's conditions">
          Dataset's conditions:{' '}
          {r.conditions.map(t => (
            <span key={t.code} className="jp-DataShare-code" title={t.meaning}>
              {t.code}
            </span>
          ))}
        </div>
      ) : null}
      {r.flags.length ? (
        <Banner kind="warning">
          Does not fit the dataset's conditions:
          <ul>
            {r.flags.map(f => (
              <li key={f}>{f}</li>
            ))}
          </ul>
        </Banner>
      ) : null}
      <div className="jp-DataShare-meta" title={r.agreement_sha256}>
        Accepted the data use agreement (SHA-256 {shortHash(r.agreement_sha256)})
      </div>
      {r.decisions.length ? (
        <div className="jp-DataShare-meta">
          Decisions ({r.rule}, {r.required_approvals} needed):{' '}
          {r.decisions.map(d => `${d.decision}${d.reason ? ` (“${d.reason}”)` : ''}`).join(', ')}
        </div>
      ) : null}
      {r.status === 'pending' ? (
        <div className="jp-DataShare-meta jp-DataShare-whoDecides" data-testid="datashare-who-decides">
          {who.committee} {who.you}
        </div>
      ) : null}
      {props.bulkError ? <Banner kind="error">{props.bulkError}</Banner> : null}
      {r.status !== 'pending' ? (
        <div className="jp-DataShare-meta">
          {r.status === 'approved' && r.grant
            ? `Granted until ${formatDateTime(r.grant.expires_at)} (${r.grant.state})`
            : r.reason
              ? `Reason: ${r.reason}`
              : null}
        </div>
      ) : !r.you_may_decide ? null : (
        <div className="jp-DataShare-decide">
          <ReasonField
            id={reasonId}
            label="Reason (required to deny; sent to the requester)"
            value={reason}
            onChange={setReason}
            error={error?.field === 'reason' ? error.message : null}
            disabled={busy !== null}
          />
          <div className="jp-DataShare-buttons">
            <button
              type="button"
              className={BUTTON.accept}
              disabled={busy !== null}
              onClick={() => decide('approve')}
              aria-label={`Approve the request of ${r.name}`}
            >
              {busy === 'approve' ? 'Approving…' : 'Approve'}
            </button>
            <button
              type="button"
              className={BUTTON.warn}
              disabled={busy !== null}
              onClick={() => decide('deny')}
              aria-label={`Deny the request of ${r.name}`}
            >
              {busy === 'deny' ? 'Denying…' : 'Deny'}
            </button>
          </div>
        </div>
      )}
      {error && error.field !== 'reason' ? <Banner kind="error">{error.message}</Banner> : null}
      {props.canErase && !erased ? (
        <button
          type="button"
          className="jp-DataShare-linkButton jp-DataShare-erase"
          disabled={busy !== null}
          onClick={() => void erase()}
          aria-label={`Erase the personal data of ${r.name}`}
        >
          {busy === 'erase' ? 'Erasing…' : 'Erase personal data…'}
        </button>
      ) : null}
    </article>
  );
}
