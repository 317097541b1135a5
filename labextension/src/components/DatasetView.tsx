/**
 * One dataset as its owner manages it: files (with table previews), versions, citation, its
 * details and access (editable), review links, access requests, grants, committee, audit events,
 * and withdrawal. Each section is its own component; this one loads the data and lays them out.
 */
import { caretLeftIcon, refreshIcon } from '@jupyterlab/ui-components';
import * as React from 'react';

import { DataShareError } from '../api';
import { countdown, formatBytes, formatDate, formatDateTime, plural, timeAgo } from '../format';
import type { DataShareModel, SectionName } from '../model';
import type { AuditEvent, CommitteeInfo, DatasetDetail, Grant, ReviewLink } from '../types';
import { Banner, Busy, CopyButton, LevelBadge, Section, useNow } from './common';
import { CiteSection } from './CiteSection';
import { CommitteeSection } from './CommitteeSection';
import { EditAccess } from './EditAccess';
import { EditDetails } from './EditDetails';
import { EventList } from './EventList';
import { FilesSection } from './FilesSection';
import { GrantsSection } from './GrantsSection';
import { LinksSection } from './LinksSection';
import { RequestList } from './Requests';
import { VersionsSection } from './VersionsSection';
import { WithdrawSection } from './WithdrawSection';

export interface IDatasetViewProps {
  model: DataShareModel;
  id: string;
  focusSection: SectionName | null;
  focusNonce: number;
  onBack: () => void;
  onOpenAudit: (datasetId: string) => void;
}

interface IData {
  detail: DatasetDetail;
  links: ReviewLink[];
  grants: Grant[] | null;
  committee: CommitteeInfo | null;
  events: AuditEvent[];
}

const isRestrictedish = (d: DatasetDetail) =>
  d.access.level === 'restricted' ||
  d.access.level_in_force === 'restricted' ||
  d.access.after_embargo === 'restricted';

export function DatasetView(props: IDatasetViewProps): JSX.Element {
  const { model, id } = props;
  const client = model.client;
  const [data, setData] = React.useState<IData | null>(null);
  const [error, setError] = React.useState<string | null>(null);
  const [loading, setLoading] = React.useState(false);
  const now = useNow(30_000);

  const load = React.useCallback(async () => {
    setLoading(true);
    try {
      const detail = await client.getDataset(id);
      const restricted = isRestrictedish(detail);
      const optional = <T,>(p: Promise<T>) =>
        p.catch((e: unknown) => {
          if (e instanceof DataShareError && (e.status === 404 || e.status === 403)) {
            return null;
          }
          throw e;
        });
      const [links, grants, committee, events] = await Promise.all([
        detail.withdrawn ? Promise.resolve([]) : client.listLinks(id),
        restricted ? optional(client.listGrants(id)) : Promise.resolve(null),
        restricted ? optional(client.committee(id)) : Promise.resolve(null),
        client.audit({ dataset: id, limit: 50 })
      ]);
      setData({ detail, links, grants, committee, events });
      setError(null);
    } catch (e) {
      setError((e as Error).message ?? String(e));
    } finally {
      setLoading(false);
    }
  }, [client, id]);

  React.useEffect(() => {
    void load();
    const onData = () => void load();
    model.dataChanged.connect(onData);
    return () => {
      model.dataChanged.disconnect(onData);
    };
  }, [load, model]);

  const changed = async () => {
    await model.invalidate();
  };

  // A command asking for a section remounts it open (the key changes with every request).
  const sectionKey = (name: SectionName) =>
    props.focusSection === name ? `${name}-${props.focusNonce}` : name;
  const forced = (name: SectionName) => (props.focusSection === name ? true : undefined);
  // The citation's "Complete the declaration" opens the details with the focus on the declaration.
  const [detailsFocus, setDetailsFocus] = React.useState<'title' | 'rights'>('title');

  const back = (
    <button
      type="button"
      className="jp-DataShare-linkButton jp-DataShare-back"
      onClick={props.onBack}
      aria-label="Back to all datasets"
    >
      <caretLeftIcon.react tag="span" /> All datasets
    </button>
  );

  if (!data) {
    return (
      <div className="jp-DataShare-datasetView">
        {back}
        {error ? <Banner kind="error">{error}</Banner> : <Busy label="Loading…" />}
      </div>
    );
  }
  const d = data.detail;
  const requests = model.requests.filter(r => r.dataset_id === id);
  const landing = client.absolute(d.landing_page);

  return (
    <div className="jp-DataShare-datasetView" data-dataset={d.id}>
      <div className="jp-DataShare-viewBar">
        {back}
        <span className="jp-DataShare-spacer" />
        <button
          type="button"
          className="jp-DataShare-iconButton"
          aria-label="Reload this dataset"
          title="Reload"
          onClick={() => void load()}
          disabled={loading}
        >
          <refreshIcon.react tag="span" />
        </button>
      </div>
      <h2 className="jp-DataShare-datasetTitle">{d.title}</h2>
      <div className="jp-DataShare-meta jp-DataShare-idLine">
        <LevelBadge access={d.access} now={now} />
        <code>{d.id}</code>
        <CopyButton text={d.id} label="Copy the dataset id" />
      </div>
      {error ? <Banner kind="error">{error}</Banner> : null}
      {d.withdrawn ? (
        <Banner kind="warning">
          Withdrawn {formatDateTime(d.withdrawn_at)}
          {d.withdrawal_reason ? `: ${d.withdrawal_reason}` : ''}
        </Banner>
      ) : null}
      <dl className="jp-DataShare-dl">
        <dt>Version</dt>
        <dd>
          {d.latest_version} · {plural(d.file_count, 'file')} · {formatBytes(d.total_size)}
        </dd>
        {d.access.level === 'embargoed' ? (
          <>
            <dt>Embargo</dt>
            <dd>
              until {formatDate(d.access.embargo_until)} (
              {countdown(d.access.embargo_until, now) ?? 'ended'}), then{' '}
              {d.access.after_embargo}
            </dd>
          </>
        ) : null}
        <dt>Licence</dt>
        <dd>{d.license.name}</dd>
        <dt>Source</dt>
        <dd>
          <code>{d.source_path || '(server root)'}</code>
        </dd>
        <dt>Shared</dt>
        <dd title={formatDateTime(d.created_at)}>{timeAgo(d.created_at, now)}</dd>
        {d.access.level_in_force !== 'reviewer-only' && !d.withdrawn ? (
          <>
            <dt>Landing page</dt>
            <dd className="jp-DataShare-urlCell">
              <a href={landing} target="_blank" rel="noreferrer noopener">
                {landing}
              </a>
              <CopyButton text={landing} label="Copy the landing page address" />
            </dd>
          </>
        ) : null}
      </dl>

      <Section key={sectionKey('files')} id="files" title="Files" count={d.file_count} open={forced('files')}>
        <FilesSection client={client} detail={d} />
      </Section>
      <Section key={sectionKey('versions')} id="versions" title="Versions" count={d.versions.length} open={forced('versions')}>
        <VersionsSection client={client} detail={d} onChanged={changed} />
      </Section>
      {!d.withdrawn ? (
        <>
          <Section key={sectionKey('cite')} id="cite" title="Cite" open={forced('cite')} lazy>
            <CiteSection
              client={client}
              datasetId={d.id}
              revision={`${d.updated_at}/${d.latest_version}`}
              onCompleteDeclaration={() => {
                setDetailsFocus('rights');
                model.open(d.id, 'edit');
              }}
            />
          </Section>
          <Section key={sectionKey('edit')} id="edit" title="Edit details" open={forced('edit')}>
            <EditDetails
              client={client}
              detail={d}
              autoFocus={props.focusSection === 'edit'}
              focus={detailsFocus}
              onSaved={changed}
            />
          </Section>
          <Section key={sectionKey('access')} id="access" title="Edit access" open={forced('access')}>
            <EditAccess
              client={client}
              detail={d}
              committee={data.committee}
              autoFocus={props.focusSection === 'access'}
              onSaved={changed}
            />
          </Section>
        </>
      ) : null}
      {!d.withdrawn ? (
        <Section
          key={sectionKey('links')}
          id="links"
          title="Review links"
          count={data.links.filter(l => l.state === 'active').length}
          open={forced('links')}
        >
          <LinksSection
            client={client}
            detail={d}
            links={data.links}
            model={model}
            autoFocus={props.focusSection === 'links'}
            onChanged={changed}
            now={now}
          />
        </Section>
      ) : null}
      {isRestrictedish(d) || requests.length ? (
        <Section
          key={sectionKey('requests')}
          id="requests"
          title="Access requests"
          count={requests.filter(r => r.status === 'pending').length}
          open={forced('requests')}
        >
          <RequestList
            client={client}
            requests={requests}
            canErase={() => true}
            onDecided={() => void changed()}
          />
        </Section>
      ) : null}
      {data.grants ? (
        <Section
          key={sectionKey('grants')}
          id="grants"
          title="Grants"
          count={data.grants.filter(g => g.state === 'active').length}
          open={forced('grants')}
        >
          <GrantsSection
            client={client}
            grants={data.grants}
            requests={requests}
            onChanged={changed}
            now={now}
          />
        </Section>
      ) : null}
      {data.committee ? (
        <Section
          key={sectionKey('committee')}
          id="committee"
          title="Committee"
          count={data.committee.members.length}
          open={forced('committee')}
        >
          <CommitteeSection committee={data.committee} />
        </Section>
      ) : null}
      <Section key={sectionKey('events')} id="events" title="Audit events" count={data.events.length} open={forced('events')}>
        <EventList events={data.events} now={now} />
        <button
          type="button"
          className="jp-DataShare-linkButton"
          onClick={() => props.onOpenAudit(d.id)}
        >
          Open in the audit log
        </button>
      </Section>
      {!d.withdrawn ? (
        <Section key={sectionKey('withdraw')} id="withdraw" title="Withdraw" open={forced('withdraw')}>
          <WithdrawSection
            client={client}
            detail={d}
            onWithdrawn={async () => {
              await changed();
              props.onBack();
            }}
          />
        </Section>
      ) : null}
    </div>
  );
}
