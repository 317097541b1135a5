/**
 * The state of the "Share as dataset" form and the request body made from it (pure, tested).
 */
import { splitList } from './format';
import type { Level, ShareBody } from './types';
import { CUSTOM_LICENCE, DEFAULT_LICENCE, useConditions } from './vocab';

export interface ICreatorRow {
  name: string;
  orcid: string;
  affiliation: string;
}

export interface IMemberRow {
  kind: 'jupyter' | 'external';
  username: string;
  name: string;
  email: string;
}

export interface IShareFormState {
  path: string;
  isDir: boolean;
  title: string;
  description: string;
  keywords: string;
  relatedPublication: string;
  includeHidden: boolean;
  creators: ICreatorRow[];
  licence: string;
  customLicenceId: string;
  licenceText: string;
  level: Level;
  embargoUntil: string;
  afterEmbargo: Level;
  members: IMemberRow[];
  requiredApprovals: string;
  rule: 'veto' | 'majority';
  duoPrimary: string;
  diseaseTerm: string;
  duoModifiers: string[];
  agreement: string;
}

export function emptyCreator(): ICreatorRow {
  return { name: '', orcid: '', affiliation: '' };
}

export function emptyMember(kind: IMemberRow['kind'] = 'jupyter'): IMemberRow {
  return { kind, username: '', name: '', email: '' };
}

/** A title from a path: `results/field_data.csv` → `field data`. */
export function titleFromPath(path: string): string {
  const name = path.split('/').filter(Boolean).pop() ?? '';
  const stem = name.includes('.') ? name.slice(0, name.lastIndexOf('.')) : name;
  return stem.replace(/[_-]+/g, ' ').trim();
}

export function initialState(options: {
  path: string;
  isDir: boolean;
  /** The first creator (see creator.ts: only a real person, else blank). */
  creator?: ICreatorRow;
  creatorName?: string;
  licence?: string;
  level?: Level;
  embargoUntil?: string;
}): IShareFormState {
  return {
    path: options.path,
    isDir: options.isDir,
    title: titleFromPath(options.path),
    description: '',
    keywords: '',
    relatedPublication: '',
    includeHidden: false,
    creators: [options.creator ?? { ...emptyCreator(), name: options.creatorName ?? '' }],
    licence: options.licence ?? DEFAULT_LICENCE,
    customLicenceId: '',
    licenceText: '',
    level: options.level ?? 'open',
    embargoUntil: options.embargoUntil ?? '',
    afterEmbargo: 'open',
    members: [],
    requiredApprovals: '1',
    rule: 'veto',
    duoPrimary: '',
    diseaseTerm: '',
    duoModifiers: [],
    agreement: ''
  };
}

/** Whether the committee part of the form applies (restricted now or after the embargo). */
export function needsCommittee(state: IShareFormState): boolean {
  return (
    state.level === 'restricted' ||
    (state.level === 'embargoed' && state.afterEmbargo === 'restricted')
  );
}

export interface IBuiltBody {
  body: ShareBody;
  /** Map a server field (indices of the body's lists) back to the form's rows. */
  toFormField: (serverField: string | null) => string | null;
}

function remap(
  field: string,
  prefix: string,
  rows: number[]
): string | null {
  const match = new RegExp(`^${prefix.replace(/[.[\]]/g, '\\$&')}\\[(\\d+)\\]`).exec(field);
  if (!match) {
    return null;
  }
  const row = rows[Number(match[1])];
  return row === undefined
    ? prefix
    : `${prefix}[${row}]${field.slice(match[0].length)}`;
}

/**
 * The POST body. Rows left completely blank are dropped (so an unused "add" row is no error);
 * `toFormField` turns the server's `creators[1].orcid` back into the row the user sees.
 */
export function buildShareBody(state: IShareFormState): IBuiltBody {
  const creatorRows: number[] = [];
  const creators = state.creators
    .map((c, i) => ({ c, i }))
    .filter(({ c }) => c.name.trim() || c.orcid.trim() || c.affiliation.trim())
    .map(({ c, i }) => {
      creatorRows.push(i);
      const out: { name: string; orcid?: string; affiliation?: string } = {
        name: c.name.trim()
      };
      if (c.orcid.trim()) {
        out.orcid = c.orcid.trim();
      }
      if (c.affiliation.trim()) {
        out.affiliation = c.affiliation.trim();
      }
      return out;
    });

  const body: ShareBody = {
    path: state.path,
    title: state.title,
    description: state.description,
    creators,
    keywords: splitList(state.keywords),
    access: { level: state.level }
  };
  if (state.licence === CUSTOM_LICENCE) {
    body.license = state.customLicenceId.trim();
    body.license_text = state.licenceText;
  } else {
    body.license = state.licence;
  }
  if (state.relatedPublication.trim()) {
    body.related_publication = state.relatedPublication.trim();
  }
  if (state.isDir && state.includeHidden) {
    body.include_hidden = true;
  }
  if (state.level === 'embargoed') {
    body.access.embargo_until = state.embargoUntil;
    body.access.after_embargo = state.afterEmbargo;
  }

  const memberRows: number[] = [];
  if (needsCommittee(state)) {
    const members = state.members
      .map((m, i) => ({ m, i }))
      .filter(({ m }) =>
        m.kind === 'jupyter'
          ? m.username.trim()
          : m.name.trim() || m.email.trim()
      )
      .map(({ m, i }) => {
        memberRows.push(i);
        return m.kind === 'jupyter'
          ? { username: m.username.trim() }
          : { name: m.name.trim(), email: m.email.trim() };
      });
    const required = Number(state.requiredApprovals);
    body.committee = {
      members,
      // Not a number: sent as is, so the server names the field.
      required_approvals:
        state.requiredApprovals.trim() && Number.isFinite(required)
          ? required
          : (state.requiredApprovals as unknown as number),
      rule: state.rule
    };
    const conditions = useConditions(
      state.duoPrimary,
      state.diseaseTerm,
      state.duoModifiers
    );
    if (conditions.length) {
      body.use_conditions = conditions;
    }
    if (state.agreement.trim()) {
      body.agreement = state.agreement;
    }
  }

  const toFormField = (serverField: string | null): string | null => {
    if (!serverField) {
      return null;
    }
    return (
      remap(serverField, 'creators', creatorRows) ??
      remap(serverField, 'committee.members', memberRows) ??
      serverField
    );
  };
  return { body, toFormField };
}

/** Every field the form shows an error next to (for `matchField`). */
export function formFields(state: IShareFormState): string[] {
  const out = [
    'path',
    'title',
    'description',
    'keywords',
    'related_publication',
    'include_hidden',
    'creators',
    'license',
    'license_text',
    'access',
    'access.level',
    'access.embargo_until',
    'access.after_embargo',
    'committee',
    'committee.members',
    'committee.required_approvals',
    'committee.rule',
    'use_conditions',
    'agreement'
  ];
  state.creators.forEach((_, i) => {
    out.push(
      `creators[${i}]`,
      `creators[${i}].name`,
      `creators[${i}].orcid`,
      `creators[${i}].affiliation`
    );
  });
  state.members.forEach((_, i) => {
    out.push(
      `committee.members[${i}]`,
      `committee.members[${i}].username`,
      `committee.members[${i}].name`,
      `committee.members[${i}].email`
    );
  });
  return out;
}
