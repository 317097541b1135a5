/**
 * The files of one version of a dataset: path, size, checksum, the owner's (audited) download,
 * and for tables the preview computed at share time (expandable under the file's row).
 */
import { caretDownIcon, caretRightIcon, downloadIcon } from '@jupyterlab/ui-components';
import * as React from 'react';

import { DataShareClient } from '../api';
import { formatBytes, shortHash } from '../format';
import type { DatasetDetail, DatasetFile } from '../types';
import { Banner, CopyButton, saveBlob } from './common';
import { FilePreviewView } from './FilePreview';
import { previewModel } from './previewTable';

export function FilesSection(props: {
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
          <FileRow key={f.path} file={f} onDownload={() => void download(f.path)} />
        ))}
      </ul>
    </div>
  );
}

function FileRow(props: { file: DatasetFile; onDownload: () => void }): JSX.Element {
  const f = props.file;
  const [open, setOpen] = React.useState(false);
  const previewId = `${React.useId().replace(/:/g, '')}-preview`;
  const model = previewModel(f.preview);
  const Caret = open ? caretDownIcon : caretRightIcon;
  return (
    <li className="jp-DataShare-file" data-file={f.path}>
      <div className="jp-DataShare-fileTop">
        <span className="jp-DataShare-filePath" title={f.path}>
          {f.path}
        </span>
        <button
          type="button"
          className="jp-DataShare-iconButton"
          aria-label={`Download ${f.path}`}
          title="Download (audited)"
          onClick={props.onDownload}
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
      {model ? (
        <>
          <button
            type="button"
            className="jp-DataShare-linkButton jp-DataShare-previewToggle"
            aria-expanded={open}
            aria-controls={previewId}
            aria-label={`Preview of ${f.path}`}
            onClick={() => setOpen(!open)}
          >
            <Caret.react tag="span" elementSize="normal" />
            {model.kind === 'table' ? `Preview · ${model.summary}` : 'No preview'}
          </button>
          {open && f.preview ? <FilePreviewView id={previewId} path={f.path} preview={f.preview} /> : null}
        </>
      ) : null}
    </li>
  );
}
