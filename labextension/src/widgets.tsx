/**
 * Lumino widgets around the React views: the sidebar panel, the share form and the audit log.
 */
import { LabIcon, ReactWidget } from '@jupyterlab/ui-components';
import * as React from 'react';

import { DataShareClient } from './api';
import { AuditView, IAuditFilters } from './components/AuditView';
import { Panel } from './components/Panel';
import { IScanResult, ShareForm } from './components/ShareForm';
import type { DataShareModel } from './model';
import type { IShareFormState } from './shareForm';
import type { ShareResult } from './types';

const ICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">
  <g class="jp-icon3" fill="#616161">
    <ellipse cx="9" cy="4.5" rx="7" ry="2.5"/>
    <path d="M2 6.5v3.5c0 1.4 3.1 2.5 7 2.5s7-1.1 7-2.5V6.5c0 1.4-3.1 2.5-7 2.5S2 7.9 2 6.5z"/>
    <path d="M2 12v3.5c0 1.4 3.1 2.5 7 2.5.4 0 .8 0 1.2 0v-3.6c-.4 0-.8.1-1.2.1-3.9 0-7-1.1-7-2.5z"/>
    <circle cx="20" cy="12.5" r="2.3"/>
    <circle cx="14.2" cy="17" r="2.3"/>
    <circle cx="20" cy="21.4" r="2.3"/>
  </g>
  <path class="jp-icon3" stroke="#616161" fill="none" stroke-width="1.5" d="M20 12.5 14.2 17 20 21.4"/>
</svg>`;

export const dataShareIcon = new LabIcon({
  name: 'jupyter-datashare:icon',
  svgstr: ICON_SVG
});

/** The left sidebar "Data sharing". */
export class DataSharingPanel extends ReactWidget {
  constructor(
    readonly model: DataShareModel,
    private readonly _openAudit: (datasetId?: string) => void
  ) {
    super();
    this.id = 'jp-datashare-panel';
    this.addClass('jp-DataShare-panel');
    this.title.icon = dataShareIcon;
    this.title.caption = 'Data sharing';
  }

  protected render(): JSX.Element {
    return <Panel model={this.model} onOpenAudit={this._openAudit} />;
  }
}

/** The "Share as dataset…" form, opened in the main area. */
export class ShareFormWidget extends ReactWidget {
  constructor(
    private readonly _options: {
      client: DataShareClient;
      initial: IShareFormState;
      scan?: () => Promise<IScanResult>;
      onShared: (result: ShareResult) => void;
      onOpenDataset: (id: string) => void;
    }
  ) {
    super();
    this.addClass('jp-DataShare-shareWidget');
  }

  protected render(): JSX.Element {
    return (
      <ShareForm
        client={this._options.client}
        initial={this._options.initial}
        scan={this._options.scan}
        onShared={this._options.onShared}
        onOpenDataset={this._options.onOpenDataset}
        onClose={() => this.parent?.dispose()}
      />
    );
  }
}

/** The audit log, opened in the main area. */
export class AuditWidget extends ReactWidget {
  constructor(
    private readonly _client: DataShareClient,
    private readonly _model: DataShareModel
  ) {
    super();
    this.addClass('jp-DataShare-auditWidget');
  }

  /** Show the log with these filters (a fresh view, so the filters apply). */
  setFilters(filters: Partial<IAuditFilters>): void {
    this._filters = filters;
    this._generation++;
    this._verifyNonce = 0;
    this.update();
  }

  /** Run the log's verification. */
  verify(): void {
    this._verifyNonce++;
    this.update();
  }

  protected render(): JSX.Element {
    return (
      <AuditView
        key={this._generation}
        client={this._client}
        datasets={() => this._client.listDatasets()}
        initial={this._filters}
        pageSize={this._model.preferences.auditPageSize}
        verifyNonce={this._verifyNonce}
      />
    );
  }

  private _filters: Partial<IAuditFilters> = {};
  private _generation = 0;
  private _verifyNonce = 0;
}
