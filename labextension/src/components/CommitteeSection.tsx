/**
 * The data access committee of a dataset: its rule and members.
 */
import * as React from 'react';

import type { CommitteeInfo } from '../types';

export function CommitteeSection(props: { committee: CommitteeInfo }): JSX.Element {
  const c = props.committee;
  return (
    <div>
      <div className="jp-DataShare-meta">
        Rule: {c.rule} · {c.required_approvals} approval{c.required_approvals === 1 ? '' : 's'} needed
      </div>
      <ul className="jp-DataShare-list">
        {c.members.map(m => (
          <li key={m.id} className="jp-DataShare-listRow">
            <strong>{m.name}</strong>{' '}
            <span className="jp-DataShare-meta">
              {m.kind === 'jupyter' ? `Jupyter user ${m.username}` : m.email}
              {m.counts_towards_quorum ? '' : ' · you (does not count towards the quorum)'}
            </span>
          </li>
        ))}
      </ul>
    </div>
  );
}
