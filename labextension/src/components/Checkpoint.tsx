/**
 * Signing a checkpoint of the audit log from the audit view: the note to copy somewhere the
 * server cannot change (an e-mail, a repository, a journal submission). Checked later with
 * `jupyter datashare audit verify --checkpoint FILE`, it catches even a rewrite of the whole log.
 */
import * as React from 'react';

import type { DataShareClient } from '../api';
import type { SignedCheckpoint } from '../types';
import { BUTTON, Banner, CopyButton, saveBlob } from './common';

/** The text saved to a file: what `jupyter datashare audit checkpoint` prints. */
export function checkpointFile(signed: SignedCheckpoint): string {
  const note = signed.checkpoint ?? '';
  return `${note}${note.endsWith('\n') ? '' : '\n'}verifier key: ${signed.verifier_key}\n`;
}

/** The note as a dialog body (the palette command). */
export function checkpointNote(signed: SignedCheckpoint): JSX.Element {
  return <pre className="jp-DataShare-checkpointNote">{checkpointFile(signed)}</pre>;
}

export function Checkpoint(props: { client: DataShareClient }): JSX.Element {
  const [signed, setSigned] = React.useState<SignedCheckpoint | null>(null);
  const [busy, setBusy] = React.useState(false);
  const [error, setError] = React.useState<string | null>(null);

  const sign = async () => {
    setBusy(true);
    setError(null);
    try {
      const out = await props.client.signCheckpoint();
      if (!out.checkpoint) {
        setError('The log is empty: there is nothing to sign yet.');
      }
      setSigned(out.checkpoint ? out : null);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="jp-DataShare-checkpoint">
      <button
        type="button"
        className={BUTTON.plain}
        onClick={() => void sign()}
        disabled={busy}
        title="Sign the log's current state and show the note to keep elsewhere"
        data-testid="datashare-sign-checkpoint"
      >
        {busy ? 'Signing…' : 'Sign checkpoint'}
      </button>
      {error ? (
        <Banner kind="error" onDismiss={() => setError(null)}>
          {error}
        </Banner>
      ) : null}
      {signed ? (
        <Banner kind="success" onDismiss={() => setSigned(null)}>
          <p>
            Keep this note where the server cannot change it. Later,{' '}
            <code>jupyter datashare audit verify --checkpoint FILE</code> proves the log still holds
            every event up to it.
          </p>
          <pre
            className="jp-DataShare-checkpointNote"
            aria-label="Signed checkpoint"
            data-testid="datashare-checkpoint-note"
          >
            {checkpointFile(signed)}
          </pre>
          <CopyButton text={checkpointFile(signed)} label="Copy the signed checkpoint" showText />
          <button
            type="button"
            className={BUTTON.plain}
            onClick={() =>
              saveBlob(
                new Blob([checkpointFile(signed)], { type: 'text/plain' }),
                'datashare-checkpoint.txt'
              )
            }
          >
            Save as file
          </button>
        </Banner>
      ) : null}
    </div>
  );
}
