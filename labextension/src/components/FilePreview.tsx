/**
 * A table's preview under its row in the file list: the schema with missing values per column,
 * the quality summary, and the first rows; or the reason there is no preview.
 */
import * as React from 'react';

import type { FilePreview } from '../types';
import { previewModel } from './previewTable';

export function FilePreviewView(props: {
  id: string;
  path: string;
  preview: FilePreview;
}): JSX.Element | null {
  const m = previewModel(props.preview);
  if (!m) {
    return null;
  }
  if (m.kind === 'error') {
    return (
      <div id={props.id} className="jp-DataShare-preview" data-testid="datashare-preview">
        <div className="jp-DataShare-hint jp-DataShare-previewError">{m.message}</div>
      </div>
    );
  }
  return (
    <div id={props.id} className="jp-DataShare-preview" data-testid="datashare-preview">
      <div className="jp-DataShare-previewSummary" data-testid="datashare-preview-summary">
        {m.summary}
      </div>
      <div className="jp-DataShare-meta" data-testid="datashare-preview-quality">
        {m.quality}
      </div>
      <table className="jp-DataShare-table jp-DataShare-schema" aria-label={`Columns of ${props.path}`}>
        <thead>
          <tr>
            <th scope="col">Column</th>
            <th scope="col">Type</th>
            <th scope="col">Missing</th>
          </tr>
        </thead>
        <tbody>
          {m.columns.map(c => (
            <tr key={c.name} data-column={c.name}>
              <td>
                <code>{c.name}</code>
              </td>
              <td className="jp-DataShare-meta">{c.type}</td>
              <td className={c.missing ? 'jp-DataShare-missing' : 'jp-DataShare-meta'}>
                {c.missingText}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {m.head && m.head.length ? (
        // Wide tables scroll sideways; the scroller takes the focus so the keyboard can scroll it.
        <div
          className="jp-DataShare-headScroll"
          tabIndex={0}
          role="region"
          aria-label={`First rows of ${props.path}`}
        >
          <table className="jp-DataShare-table jp-DataShare-headTable" data-testid="datashare-preview-rows">
            <thead>
              <tr>
                {m.columns.map(c => (
                  <th key={c.name} scope="col" title={c.type}>
                    {c.name}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {m.head.map((row, i) => (
                <tr key={i}>
                  {row.map((cell, j) => (
                    <td key={j} className={cell === '' ? 'jp-DataShare-nullCell' : undefined}>
                      {cell}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <div className="jp-DataShare-hint">{m.headNote}</div>
    </div>
  );
}
