/**
 * Access requests as a committee member (or the owner) reads them: pending ones first, approve /
 * deny on those the reader may decide, and with several of those a selection to approve or deny
 * at once (one recorded decision per request; a denial needs a reason, sent to every requester it
 * applies to). The owner reads the requests of their datasets but only the committee decides.
 */
import * as React from 'react';

import { DataShareClient, errorForForm, IFieldError } from '../api';
import type { AccessRequest, Decision } from '../types';
import { Banner, BUTTON, ReasonField } from './common';
import { bulkOutcome, IBulkOutcome } from './bulkDecisions';
import { RequestCard } from './RequestCard';

export { RequestCard };

export function RequestList(props: {
  client: DataShareClient;
  requests: AccessRequest[];
  showDataset?: boolean;
  /** Whether the current user may erase this request's personal data (owns its dataset). */
  canErase?: (request: AccessRequest) => boolean;
  onDecided?: (updated?: AccessRequest) => void;
  empty?: string;
}): JSX.Element {
  const [showDone, setShowDone] = React.useState(false);
  const [selected, setSelected] = React.useState<Set<string>>(new Set());
  const [bulkErrors, setBulkErrors] = React.useState<Record<string, string>>({});
  // Kept here, not in the bar: the bar goes once fewer than two requests are pending.
  const [notice, setNotice] = React.useState<string | null>(null);
  const pending = props.requests.filter(r => r.status === 'pending');
  const done = props.requests.filter(r => r.status !== 'pending');
  const decidable = pending.filter(r => r.you_may_decide);
  const bulk = decidable.length > 1;

  // Requests decided meanwhile (here or elsewhere) leave the selection.
  React.useEffect(() => {
    const open = new Set(decidable.map(r => r.id));
    setSelected(s => {
      const kept = [...s].filter(id => open.has(id));
      return kept.length === s.size ? s : new Set(kept);
    });
  }, [props.requests]);

  const card = (r: AccessRequest, selectable: boolean) => (
    <RequestCard
      key={r.id}
      client={props.client}
      request={r}
      showDataset={props.showDataset}
      canErase={props.canErase?.(r)}
      selected={selected.has(r.id)}
      onSelect={
        selectable
          ? on =>
              setSelected(s => {
                const next = new Set(s);
                on ? next.add(r.id) : next.delete(r.id);
                return next;
              })
          : undefined
      }
      bulkError={bulkErrors[r.id]}
      onDecided={props.onDecided}
    />
  );

  return (
    <div className="jp-DataShare-requests">
      {pending.length === 0 ? (
        <div className="jp-DataShare-empty">{props.empty ?? 'No pending access requests.'}</div>
      ) : null}
      {notice ? (
        <Banner kind="success" onDismiss={() => setNotice(null)}>
          {notice}
        </Banner>
      ) : null}
      {bulk ? (
        <BulkBar
          client={props.client}
          pending={decidable}
          allPending={pending.length === decidable.length}
          selected={selected}
          onSelect={setSelected}
          onDone={outcome => {
            setNotice(outcome.summary || null);
            setBulkErrors(outcome.errors);
            setSelected(s => new Set([...s].filter(id => !outcome.recorded.includes(id))));
            props.onDecided?.();
          }}
        />
      ) : null}
      {pending.map(r => card(r, bulk))}
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
      {showDone ? done.map(r => card(r, false)) : null}
    </div>
  );
}

function BulkBar(props: {
  client: DataShareClient;
  /** The pending requests the reader may decide. */
  pending: AccessRequest[];
  /** Whether those are all the pending requests (else the label says "you may decide"). */
  allPending: boolean;
  selected: Set<string>;
  onSelect: (selected: Set<string>) => void;
  onDone: (outcome: IBulkOutcome) => void;
}): JSX.Element {
  const uid = React.useId().replace(/:/g, '');
  const [reason, setReason] = React.useState('');
  const [busy, setBusy] = React.useState<Decision | null>(null);
  const [error, setError] = React.useState<IFieldError | null>(null);
  const allRef = React.useRef<HTMLInputElement>(null);
  const n = props.pending.filter(r => props.selected.has(r.id)).length;
  const all = n === props.pending.length;

  React.useEffect(() => {
    if (allRef.current) {
      allRef.current.indeterminate = n > 0 && !all;
    }
  }, [n, all]);

  const decide = async (decision: Decision) => {
    const ids = props.pending.filter(r => props.selected.has(r.id)).map(r => r.id);
    setBusy(decision);
    setError(null);
    try {
      const outcome = bulkOutcome(await props.client.decideMany(ids, decision, reason), decision);
      if (outcome.recorded.length) {
        setReason('');
      }
      props.onDone(outcome);
    } catch (e) {
      setError(errorForForm(e, ['reason', 'requests']));
    } finally {
      setBusy(null);
    }
  };

  const reasonId = `${uid}-reason`;
  return (
    <div className="jp-DataShare-bulk" role="group" aria-label="Decide several requests">
      <div className="jp-DataShare-check">
        <input
          ref={allRef}
          id={`${uid}-all`}
          type="checkbox"
          checked={all}
          onChange={e => props.onSelect(new Set(e.target.checked ? props.pending.map(r => r.id) : []))}
        />
        <label htmlFor={`${uid}-all`}>
          Select all {props.pending.length} pending requests
          {props.allPending ? '' : ' you may decide'}
          {n && !all ? ` (${n} selected)` : ''}
        </label>
      </div>
      {n ? (
        <div className="jp-DataShare-decide">
          <ReasonField
            id={reasonId}
            label="Reason for the selected (required to deny; sent to each requester)"
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
              onClick={() => void decide('approve')}
              data-testid="datashare-bulk-approve"
            >
              {busy === 'approve' ? 'Approving…' : `Approve ${n} selected`}
            </button>
            <button
              type="button"
              className={BUTTON.warn}
              disabled={busy !== null}
              onClick={() => void decide('deny')}
              data-testid="datashare-bulk-deny"
            >
              {busy === 'deny' ? 'Denying…' : `Deny ${n} selected`}
            </button>
          </div>
        </div>
      ) : null}
      {error && error.field !== 'reason' ? <Banner kind="error">{error.message}</Banner> : null}
    </div>
  );
}
