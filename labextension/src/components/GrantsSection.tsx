/**
 * The access grants of a restricted dataset, each revocable with a recorded reason.
 */
import * as React from 'react';

import { DataShareClient, errorForForm } from '../api';
import { countdown, formatDate, plural, timeAgo } from '../format';
import type { AccessRequest, Grant } from '../types';
import { Banner, BUTTON, FieldError, StateBadge } from './common';

export function GrantsSection(props: {
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
