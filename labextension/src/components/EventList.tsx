/**
 * A short list of audit events (a dataset's own, in its view).
 */
import * as React from 'react';

import { formatDateTime, timeAgo } from '../format';
import type { AuditEvent } from '../types';

export function EventList(props: { events: AuditEvent[]; now: number }): JSX.Element {
  if (!props.events.length) {
    return <div className="jp-DataShare-empty">No events.</div>;
  }
  return (
    <ul className="jp-DataShare-list jp-DataShare-events">
      {props.events.map(e => (
        <li key={e.seq} className="jp-DataShare-event" data-action={e.action}>
          <span className={`jp-DataShare-action jp-DataShare-outcome-${e.outcome}`}>{e.action}</span>{' '}
          <span className="jp-DataShare-meta" title={formatDateTime(e.ts)}>
            {timeAgo(e.ts, props.now)} · {e.actor}
            {e.file ? ` · ${e.file}` : ''}
            {e.reason ? ` · ${e.reason}` : ''}
          </span>
        </li>
      ))}
    </ul>
  );
}
