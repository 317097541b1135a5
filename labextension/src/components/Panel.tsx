/**
 * The left sidebar "Data sharing": the owner's datasets and the committee inbox; a dataset
 * opens in place.
 */
import { historyIcon, refreshIcon } from '@jupyterlab/ui-components';
import * as React from 'react';

import { formatBytes, plural } from '../format';
import type { DataShareModel } from '../model';
import type { DatasetSummary } from '../types';
import { BUTTON, Banner, Busy, LevelBadge, Section, useNow } from './common';
import { DatasetView } from './DatasetView';
import { RequestList } from './Requests';

export interface IPanelProps {
  model: DataShareModel;
  onOpenAudit: (datasetId?: string) => void;
}

/** Re-render when the model changes. */
function useModel(model: DataShareModel): number {
  const [tick, setTick] = React.useState(0);
  React.useEffect(() => {
    const onChange = () => setTick(t => t + 1);
    model.changed.connect(onChange);
    return () => {
      model.changed.disconnect(onChange);
    };
  }, [model]);
  return tick;
}

export function Panel(props: IPanelProps): JSX.Element {
  const { model } = props;
  useModel(model);
  const now = useNow(30_000);
  const focus = model.focus;

  React.useEffect(() => {
    if (!model.loaded && !model.loading) {
      void model.refresh();
    }
  }, [model]);

  const toolbar = (
    <div className="jp-DataShare-toolbar" role="toolbar" aria-label="Data sharing">
      <h2 className="jp-DataShare-panelTitle">Data sharing</h2>
      <span className="jp-DataShare-spacer" />
      <button
        type="button"
        className="jp-DataShare-iconButton"
        aria-label="Open the audit log"
        title="Audit log"
        onClick={() => props.onOpenAudit()}
      >
        <historyIcon.react tag="span" />
      </button>
      <button
        type="button"
        className="jp-DataShare-iconButton"
        aria-label="Refresh the datasets"
        title="Refresh"
        disabled={model.loading}
        onClick={() => void model.invalidate()}
      >
        <refreshIcon.react tag="span" />
      </button>
    </div>
  );

  if (focus.id) {
    return (
      <div className="jp-DataShare-panelBody">
        {toolbar}
        <DatasetView
          key={focus.id}
          model={model}
          id={focus.id}
          focusSection={focus.section}
          focusNonce={focus.nonce}
          onBack={() => model.open(null)}
          onOpenAudit={id => props.onOpenAudit(id)}
        />
      </div>
    );
  }

  const pending = model.pendingRequests;
  return (
    <div className="jp-DataShare-panelBody">
      {toolbar}
      {model.error ? (
        <Banner kind="error">Could not load the datasets: {model.error}</Banner>
      ) : null}
      {model.loading && !model.loaded ? <Busy label="Loading…" /> : null}
      {model.requests.length ? (
        <Section
          key={focus.section === 'requests' ? `requests-${focus.nonce}` : 'requests'}
          id="inbox"
          title="Access requests"
          count={pending.length}
          open={pending.length > 0 || focus.section === 'requests' ? true : undefined}
        >
          <RequestList
            client={model.client}
            requests={model.requests}
            showDataset
            canErase={r => model.datasets.some(d => d.id === r.dataset_id)}
            onDecided={() => void model.invalidate()}
          />
          {model.hasMoreRequests ? (
            <LoadMore label="Load more requests" model={model} onClick={() => void model.loadMore('requests')} />
          ) : null}
        </Section>
      ) : null}
      {model.loaded && !model.isOwner ? (
        <Banner kind="info">
          The datasets here belong to this server&apos;s owner. You see the access requests of the
          committees you sit on{model.requests.length ? '' : ': none yet'}.
        </Banner>
      ) : null}
      {model.isOwner ? (
      <Section
        id="datasets"
        title="My datasets"
        count={`${model.datasets.length}${model.hasMoreDatasets ? '+' : ''}`}
        open
      >
        {model.datasets.length || model.search || model.hasMoreDatasets ? <DatasetSearch model={model} /> : null}
        {model.loaded && model.datasets.length === 0 && !model.search ? (
          <div className="jp-DataShare-empty">
            No datasets yet. Right-click a file or folder in the file browser and choose{' '}
            <strong>Share as dataset…</strong>
          </div>
        ) : null}
        {model.loaded && model.datasets.length === 0 && model.search ? (
          <div className="jp-DataShare-empty" role="status">
            No dataset has “{model.search}” in its title.
          </div>
        ) : null}
        <ul className="jp-DataShare-list jp-DataShare-datasets" aria-label="My datasets">
          {model.datasets.map(d => (
            <DatasetItem key={d.id} dataset={d} now={now} onOpen={() => model.open(d.id)} />
          ))}
        </ul>
        {model.hasMoreDatasets ? (
          <LoadMore label="Load more datasets" model={model} onClick={() => void model.loadMore('datasets')} />
        ) : null}
      </Section>
      ) : null}
    </div>
  );
}

/** Searches the titles on the server as one types (after a short pause). */
function DatasetSearch(props: { model: DataShareModel }): JSX.Element {
  const { model } = props;
  const [text, setText] = React.useState(model.search);
  React.useEffect(() => {
    const timer = window.setTimeout(() => void model.setSearch(text.trim()), 300);
    return () => window.clearTimeout(timer);
  }, [model, text]);
  return (
    <input
      type="search"
      className="jp-mod-styled jp-DataShare-search"
      placeholder="Search titles…"
      aria-label="Search my datasets by title"
      value={text}
      onChange={e => setText(e.target.value)}
    />
  );
}

function LoadMore(props: { label: string; model: DataShareModel; onClick: () => void }): JSX.Element {
  return (
    <div className="jp-DataShare-more">
      <button type="button" className={BUTTON.plain} disabled={props.model.loadingMore} onClick={props.onClick}>
        {props.model.loadingMore ? 'Loading…' : props.label}
      </button>
    </div>
  );
}

function DatasetItem(props: {
  dataset: DatasetSummary;
  now: number;
  onOpen: () => void;
}): JSX.Element {
  const d = props.dataset;
  return (
    <li>
      <button
        type="button"
        className="jp-DataShare-datasetItem"
        onClick={props.onOpen}
        data-dataset={d.id}
        aria-label={`Open dataset ${d.title}`}
      >
        <span className="jp-DataShare-datasetItemTop">
          <span className="jp-DataShare-datasetItemTitle">{d.title}</span>
          <LevelBadge access={d.access} now={props.now} />
        </span>
        <span className="jp-DataShare-meta">
          v{d.version} · {plural(d.file_count, 'file')} · {formatBytes(d.total_size)} ·{' '}
          <code>{d.id}</code>
        </span>
      </button>
    </li>
  );
}
