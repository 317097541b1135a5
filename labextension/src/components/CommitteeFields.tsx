/**
 * The restricted-data part of the access form: the data access committee (members, required
 * approvals, rule), the data use conditions (GA4GH DUO) and the data use agreement.
 */
import * as React from 'react';

import type { IFieldError } from '../api';
import { DUO_MODIFIERS, DUO_PRIMARY, RULES } from '../vocab';
import { BUTTON, ErrorOf, fieldId, invalidProps, TextField } from './common';
import { emptyMember, IAccessState, IMemberRow } from './datasetEdit';

export function CommitteeFields(props: {
  uid: string;
  state: IAccessState;
  update: (patch: Partial<IAccessState>) => void;
  error: IFieldError | null;
}): JSX.Element {
  const { uid, state, update, error } = props;
  const setMember = (i: number, patch: Partial<IMemberRow>) =>
    update({ members: state.members.map((m, j) => (j === i ? { ...m, ...patch } : m)) });
  const id = (name: string) => fieldId(uid, name);

  return (
    <>
      <fieldset className="jp-DataShare-fieldset">
        <legend>Data access committee</legend>
        <div className="jp-DataShare-hint">
          Members decide access requests. Only members other than you count towards the approvals
          needed; new external members get a personal link, shown once after saving.
        </div>
        <ErrorOf uid={uid} name="committee" error={error} />
        <ErrorOf uid={uid} name="committee.members" error={error} />
        {state.members.map((m, i) => {
          const f = `committee.members[${i}]`;
          return (
            <div key={i} className="jp-DataShare-row" role="group" aria-label={`Member ${i + 1}`}>
              <div className="jp-DataShare-field jp-DataShare-narrow">
                <label htmlFor={id(`${f}.kind`)}>Kind</label>
                <select
                  id={id(`${f}.kind`)}
                  className="jp-mod-styled"
                  value={m.kind}
                  onChange={e => setMember(i, { kind: e.target.value as IMemberRow['kind'] })}
                >
                  <option value="jupyter">Jupyter user</option>
                  <option value="external">External (by e-mail)</option>
                </select>
              </div>
              {m.kind === 'jupyter' ? (
                <TextField uid={uid} name={`${f}.username`} label="User name" value={m.username}
                  onChange={v => setMember(i, { username: v })} error={error} />
              ) : (
                <>
                  <TextField uid={uid} name={`${f}.name`} label="Name" value={m.name}
                    onChange={v => setMember(i, { name: v })} error={error} />
                  <TextField uid={uid} name={`${f}.email`} label="E-mail" type="email" value={m.email}
                    onChange={v => setMember(i, { email: v })} error={error} />
                </>
              )}
              <ErrorOf uid={uid} name={f} error={error} />
              <button
                type="button"
                className="jp-DataShare-linkButton"
                aria-label={`Remove member ${i + 1}${m.username || m.name ? ` (${m.username || m.name})` : ''}`}
                onClick={() => update({ members: state.members.filter((_, j) => j !== i) })}
              >
                Remove
              </button>
            </div>
          );
        })}
        <button
          type="button"
          className={BUTTON.plain + ' jp-DataShare-small'}
          onClick={() => update({ members: [...state.members, emptyMember()] })}
        >
          Add member
        </button>
        <div className="jp-DataShare-fieldRow">
          <TextField uid={uid} name="committee.required_approvals" label="Approvals needed" type="number"
            className="jp-DataShare-narrow" value={state.requiredApprovals}
            onChange={v => update({ requiredApprovals: v })} error={error} />
          <div className="jp-DataShare-field">
            <label htmlFor={id('committee.rule')}>Rule</label>
            <select
              id={id('committee.rule')}
              className="jp-mod-styled"
              value={state.rule}
              onChange={e => update({ rule: e.target.value as IAccessState['rule'] })}
              {...invalidProps(uid, 'committee.rule', error)}
            >
              {RULES.map(r => (
                <option key={r.id} value={r.id}>
                  {r.name}
                </option>
              ))}
            </select>
            <div className="jp-DataShare-hint">{RULES.find(r => r.id === state.rule)?.summary}</div>
            <ErrorOf uid={uid} name="committee.rule" error={error} />
          </div>
        </div>
      </fieldset>

      <fieldset className="jp-DataShare-fieldset" aria-label="Data use conditions">
        <legend>Data use conditions</legend>
        <div className="jp-DataShare-field">
          <label htmlFor={id('use_conditions')}>Research it may be used for</label>
          <select
            id={id('use_conditions')}
            className="jp-mod-styled"
            value={state.duoPrimary}
            onChange={e => update({ duoPrimary: e.target.value })}
            {...invalidProps(uid, 'use_conditions', error)}
          >
            <option value="">No condition</option>
            {DUO_PRIMARY.map(p => (
              <option key={p.id} value={p.id}>
                {p.id}: {p.summary}
              </option>
            ))}
          </select>
          <ErrorOf uid={uid} name="use_conditions" error={error} />
        </div>
        {state.duoPrimary === 'DS' ? (
          <TextField uid={uid} name="disease_term" label="Disease term" value={state.diseaseTerm}
            placeholder="MONDO:0005148" onChange={v => update({ diseaseTerm: v })} error={error} />
        ) : null}
        <div className="jp-DataShare-modifiers" role="group" aria-label="Modifiers">
          {DUO_MODIFIERS.map(mod => (
            <div key={mod.id} className="jp-DataShare-check">
              <input
                id={id(`duo-${mod.id}`)}
                type="checkbox"
                checked={state.duoModifiers.includes(mod.id)}
                onChange={e =>
                  update({
                    duoModifiers: e.target.checked
                      ? [...state.duoModifiers, mod.id]
                      : state.duoModifiers.filter(x => x !== mod.id)
                  })
                }
              />
              <label htmlFor={id(`duo-${mod.id}`)}>
                <strong>{mod.id}</strong> {mod.summary}
              </label>
            </div>
          ))}
        </div>
        <TextField uid={uid} name="agreement" label="Data use agreement (requesters accept this text)"
          multiline rows={4} value={state.agreement} onChange={v => update({ agreement: v })} error={error} />
      </fieldset>
    </>
  );
}
