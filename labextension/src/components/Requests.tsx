/**
 * Access requests as a committee member reads them, with approve / deny (a denial needs a reason).
 */
import * as React from 'react';

import { DataShareClient, errorForForm } from '../api';
import { formatDateTime, timeAgo } from '../format';
import type { AccessRequest, Decision } from '../types';
import { Banner, BUTTON, FieldError, StateBadge } from './common';

export function RequestCard(props: {
  client: DataShareClient;
  request: AccessRequest;
  showDataset?: boolean;
  onDecided?: (updated: AccessRequest) => void;
}): JSX.Element {
  const { request: r, client } = props;
  const uid = React.useId().replace(/:/g, '');
  const [reason, setReason] = React.useState('');
  const [busy, setBusy] = React.useState<Decision | null>(null);
  const [error, setError] = React.useState<{ field: string; message: string } | null>(null);

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

  const reasonId = `${uid}-reason`;
  return (
    <article
      className="jp-DataShare-card jp-DataShare-request"
      aria-label={`Access request from ${r.name}`}
      data-request={r.id}
    >
      <header className="jp-DataShare-cardHeader">
        <span className="jp-DataShare-cardTitle">{r.name}</span>
        <StateBadge state={r.status} />
      </header>
      <div className="jp-DataShare-meta">
        {r.institution} · {r.email}
        {r.orcid ? ` · ORCID ${r.orcid}` : ''}
      </div>
      {props.showDataset ? (
        <div className="jp-DataShare-meta">
          For <strong>{r.dataset_title}</strong> ({r.dataset_id})
        </div>
      ) : null}
      <div className="jp-DataShare-meta" title={formatDateTime(r.submitted_at)}>
        Submitted {timeAgo(r.submitted_at)} · asks for {r.requested_days} days
        {r.commercial ? ' · commercial use' : ''}
      </div>
      <p className="jp-DataShare-purpose">{r.purpose}</p>
      <div className="jp-DataShare-codes" aria-label="Intended use">
        {r.intended_use.map(t => (
          <span key={t.code} className="jp-DataShare-code" title={t.meaning}>
            {t.code}
          </span>
        ))}
      </div>
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
      {r.decisions.length ? (
        <div className="jp-DataShare-meta">
          Decisions ({r.rule}, {r.required_approvals} needed):{' '}
          {r.decisions
            .map(d => `${d.decision}${d.reason ? ` (“${d.reason}”)` : ''}`)
            .join(', ')}
        </div>
      ) : null}
      {r.status !== 'pending' ? (
        <div className="jp-DataShare-meta">
          {r.status === 'approved' && r.grant
            ? `Granted until ${formatDateTime(r.grant.expires_at)} (${r.grant.state})`
            : r.reason
              ? `Reason: ${r.reason}`
              : null}
        </div>
      ) : (
        <div className="jp-DataShare-decide">
          <label htmlFor={reasonId}>Reason (required to deny; sent to the requester)</label>
          <textarea
            id={reasonId}
            className="jp-mod-styled jp-DataShare-textarea"
            rows={2}
            value={reason}
            onChange={e => setReason(e.target.value)}
            aria-invalid={error?.field === 'reason' ? true : undefined}
            aria-describedby={error?.field === 'reason' ? `${reasonId}-error` : undefined}
            disabled={busy !== null}
          />
          <FieldError
            id={`${reasonId}-error`}
            message={error?.field === 'reason' ? error.message : null}
          />
          {error && error.field !== 'reason' ? (
            <Banner kind="error">{error.message}</Banner>
          ) : null}
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
    </article>
  );
}

export function RequestList(props: {
  client: DataShareClient;
  requests: AccessRequest[];
  showDataset?: boolean;
  onDecided?: (updated: AccessRequest) => void;
  empty?: string;
}): JSX.Element {
  const [showDone, setShowDone] = React.useState(false);
  const pending = props.requests.filter(r => r.status === 'pending');
  const done = props.requests.filter(r => r.status !== 'pending');
  return (
    <div className="jp-DataShare-requests">
      {pending.length === 0 ? (
        <div className="jp-DataShare-empty">
          {props.empty ?? 'No pending access requests.'}
        </div>
      ) : null}
      {pending.map(r => (
        <RequestCard
          key={r.id}
          client={props.client}
          request={r}
          showDataset={props.showDataset}
          onDecided={props.onDecided}
        />
      ))}
      {done.length ? (
        <button
          type="button"
          className="jp-DataShare-linkButton"
          aria-expanded={showDone}
          onClick={() => setShowDone(!showDone)}
        >
          {showDone ? 'Hide' : 'Show'} {done.length} decided request
          {done.length === 1 ? '' : 's'}
        </button>
      ) : null}
      {showDone
        ? done.map(r => (
            <RequestCard
              key={r.id}
              client={props.client}
              request={r}
              showDataset={props.showDataset}
            />
          ))
        : null}
    </div>
  );
}
