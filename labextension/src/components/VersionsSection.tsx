/**
 * The versions of a dataset, and publishing the current files as the next one.
 */
import { Dialog, showDialog } from '@jupyterlab/apputils';
import * as React from 'react';

import { DataShareClient } from '../api';
import { formatBytes, formatDateTime, plural } from '../format';
import type { DatasetDetail } from '../types';
import { describeProgress, publishInBackground } from '../jobs';
import { Banner, BUTTON } from './common';

export function VersionsSection(props: {
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
      const out = await publishInBackground(client, detail.id, {
        onProgress: job => setNotice(`Freezing version ${detail.latest_version + 1}: ${describeProgress(job)}…`)
      });
      setNotice(
        `Version ${out.version} published: ${plural(out.file_count, 'file')}, ${formatBytes(out.total_size)}.`
      );
      await props.onChanged();
    } catch (e) {
      setNotice(null);
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
