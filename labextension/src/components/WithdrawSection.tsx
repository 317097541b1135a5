/**
 * Withdrawing a dataset: a reason for the tombstone page, then a confirmation.
 */
import { Dialog, showDialog } from '@jupyterlab/apputils';
import * as React from 'react';

import { DataShareClient } from '../api';
import type { DatasetDetail } from '../types';
import { Banner, BUTTON } from './common';

export function WithdrawSection(props: {
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
