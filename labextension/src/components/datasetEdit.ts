/**
 * Editing a shared dataset: the edit forms' state, read from the owner view, and the PATCH body
 * made from it (pure, tested).
 *
 * The body carries only what changed. Sending an unchanged `access` would still record an
 * `access.changed` event and re-run the privacy check, and an unchanged `committee` would be
 * compared member by member; leaving them out keeps the audit log to what the owner did.
 */
import { formatDate, splitList } from '../format';
import type {
  CommitteeInfo,
  CommitteeMemberInput,
  Creator,
  DatasetDetail,
  Level,
  RightsDeclaration,
  UpdateBody
} from '../types';
import { CUSTOM_LICENCE, DUO_PRIMARY, LICENCES, useConditions } from '../vocab';

// -- metadata ----------------------------------------------------------------------------------

export interface ICreatorRow {
  name: string;
  orcid: string;
  affiliation: string;
  affiliationRor: string;
}

export interface IMetadataState {
  title: string;
  description: string;
  keywords: string;
  relatedPublication: string;
  provenance: string;
  creators: ICreatorRow[];
  licence: string;
  customLicenceId: string;
  licenceText: string;
  noSecrets: boolean;
  noUnprotectedPersonalData: boolean;
  principalInvestigator: string;
  firstAuthor: string;
  correspondingAuthor: string;
}

export function emptyCreator(): ICreatorRow {
  return { name: '', orcid: '', affiliation: '', affiliationRor: '' };
}

const KNOWN_LICENCES = new Set(
  LICENCES.map(l => l.id).filter(id => id !== CUSTOM_LICENCE)
);

export function metadataFromDetail(d: DatasetDetail): IMetadataState {
  const custom = !KNOWN_LICENCES.has(d.license.id);
  const rights = d.rights_declaration ?? {};
  return {
    title: d.title,
    description: d.description ?? '',
    keywords: (d.keywords ?? []).join(', '),
    relatedPublication: d.related_publication ?? '',
    provenance: d.provenance ?? '',
    creators: (d.creators ?? []).map(c => ({
      name: c.name,
      orcid: c.orcid ?? '',
      affiliation: c.affiliation ?? '',
      affiliationRor: c.affiliation_ror ?? ''
    })),
    licence: custom ? CUSTOM_LICENCE : d.license.id,
    customLicenceId: custom ? d.license.id : '',
    licenceText: custom ? (d.license.text ?? '') : '',
    noSecrets: !!rights.no_secrets,
    noUnprotectedPersonalData: !!rights.no_unprotected_personal_data,
    principalInvestigator: rights.principal_investigator ?? '',
    firstAuthor: rights.first_author ?? '',
    correspondingAuthor: rights.corresponding_author ?? ''
  };
}

/** What a PATCH does: its body, the names of the fields it changes, and error mapping. */
export interface IBuiltUpdate {
  body: UpdateBody;
  /** The body's top-level fields, for "Saved: …" (empty: nothing to send). */
  changed: string[];
  /** Map a server field (indices of the body's lists) back to the form's rows. */
  toFormField: (serverField: string | null) => string | null;
}

/** `creators[1].orcid` → `creators[3].orcid` when body row 1 is form row 3 (blank rows dropped). */
function remap(field: string, prefix: string, rows: number[]): string | null {
  const escaped = prefix.replace(/[.[\]]/g, '\\$&');
  const match = new RegExp(`^${escaped}\\[(\\d+)\\]`).exec(field);
  if (!match) {
    return null;
  }
  const row = rows[Number(match[1])];
  return row === undefined ? prefix : `${prefix}[${row}]${field.slice(match[0].length)}`;
}

/** A stable text form of a value, to compare what the form would send with what is stored. */
function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function cleanCreator(c: Partial<Creator> & { name: string }): Creator {
  const out: Creator = { name: c.name.trim() };
  if (c.orcid?.trim()) {
    out.orcid = c.orcid.trim();
  }
  if (c.affiliation?.trim()) {
    out.affiliation = c.affiliation.trim();
  }
  if (c.affiliation_ror?.trim()) {
    out.affiliation_ror = c.affiliation_ror.trim();
  }
  return out;
}

function cleanDeclaration(d: RightsDeclaration): RightsDeclaration {
  // A missing flag and a false one say the same thing: the authors did not declare it.
  const out: RightsDeclaration = {
    no_secrets: !!d.no_secrets,
    no_unprotected_personal_data: !!d.no_unprotected_personal_data
  };
  for (const key of ['principal_investigator', 'first_author', 'corresponding_author'] as const) {
    const name = d[key]?.trim();
    if (name) {
      out[key] = name;
    }
  }
  return out;
}

export function buildMetadataBody(state: IMetadataState, d: DatasetDetail): IBuiltUpdate {
  const body: UpdateBody = {};
  // Sent as typed (the server trims), so an empty title gets the server's own message.
  if (state.title.trim() !== d.title) {
    body.title = state.title;
  }
  if (state.description.trim() !== (d.description ?? '').trim()) {
    body.description = state.description;
  }
  const keywords = splitList(state.keywords);
  if (!same(keywords, d.keywords ?? [])) {
    body.keywords = keywords;
  }

  const creatorRows: number[] = [];
  const creators = state.creators
    .map((c, i) => ({ c, i }))
    .filter(({ c }) => c.name.trim() || c.orcid.trim() || c.affiliation.trim() || c.affiliationRor.trim())
    .map(({ c, i }) => {
      creatorRows.push(i);
      return cleanCreator({
        name: c.name,
        orcid: c.orcid,
        affiliation: c.affiliation,
        affiliation_ror: c.affiliationRor
      });
    });
  if (!same(creators, (d.creators ?? []).map(cleanCreator))) {
    body.creators = creators;
  }

  if (state.licence === CUSTOM_LICENCE) {
    const id = state.customLicenceId.trim();
    if (id !== d.license.id || state.licenceText.trim() !== (d.license.text ?? '').trim()) {
      body.license = id;
      body.license_text = state.licenceText;
    }
  } else if (state.licence !== d.license.id) {
    body.license = state.licence;
  }

  if (state.relatedPublication.trim() !== (d.related_publication ?? '')) {
    body.related_publication = state.relatedPublication.trim();
  }
  if (state.provenance.trim() !== (d.provenance ?? '').trim()) {
    body.provenance = state.provenance;
  }
  const declaration = cleanDeclaration({
    no_secrets: state.noSecrets,
    no_unprotected_personal_data: state.noUnprotectedPersonalData,
    principal_investigator: state.principalInvestigator,
    first_author: state.firstAuthor,
    corresponding_author: state.correspondingAuthor
  });
  if (!same(declaration, cleanDeclaration(d.rights_declaration ?? {}))) {
    body.rights_declaration = declaration;
  }

  const toFormField = (serverField: string | null): string | null =>
    serverField === null ? null : (remap(serverField, 'creators', creatorRows) ?? serverField);
  return { body, changed: Object.keys(body), toFormField };
}

/** Every field the details form shows an error next to. */
export function metadataFields(state: IMetadataState): string[] {
  const out = [
    'title',
    'description',
    'keywords',
    'creators',
    'license',
    'license_text',
    'related_publication',
    'provenance',
    'rights_declaration',
    'rights_declaration.principal_investigator',
    'rights_declaration.first_author',
    'rights_declaration.corresponding_author'
  ];
  state.creators.forEach((_, i) => {
    for (const part of ['', '.name', '.orcid', '.affiliation', '.affiliation_ror']) {
      out.push(`creators[${i}]${part}`);
    }
  });
  return out;
}

// -- access ------------------------------------------------------------------------------------

export interface IMemberRow {
  kind: 'jupyter' | 'external';
  username: string;
  name: string;
  email: string;
}

export interface IAccessState {
  level: Level;
  /** `YYYY-MM-DD`, as a date input gives it. */
  embargoUntil: string;
  afterEmbargo: Level;
  previewRowsPublic: boolean;
  members: IMemberRow[];
  requiredApprovals: string;
  rule: 'veto' | 'majority';
  duoPrimary: string;
  diseaseTerm: string;
  duoModifiers: string[];
  agreement: string;
}

export function emptyMember(kind: IMemberRow['kind'] = 'jupyter'): IMemberRow {
  return { kind, username: '', name: '', email: '' };
}

const PRIMARY_CODES = new Set(DUO_PRIMARY.map(p => p.id));

/** Split stored DUO codes into the form's choices: one primary (with its disease term), modifiers. */
export function splitConditions(codes: string[]): {
  duoPrimary: string;
  diseaseTerm: string;
  duoModifiers: string[];
} {
  let duoPrimary = '';
  let diseaseTerm = '';
  const duoModifiers: string[] = [];
  for (const code of codes) {
    if (code.startsWith('DS:')) {
      duoPrimary = 'DS';
      diseaseTerm = code.slice(3);
    } else if (PRIMARY_CODES.has(code)) {
      duoPrimary = code;
    } else {
      duoModifiers.push(code);
    }
  }
  return { duoPrimary, diseaseTerm, duoModifiers };
}

export function accessFromDetail(d: DatasetDetail, committee: CommitteeInfo | null): IAccessState {
  return {
    level: d.access.level,
    embargoUntil: d.access.embargo_until ? formatDate(d.access.embargo_until) : '',
    afterEmbargo: d.access.after_embargo ?? 'open',
    previewRowsPublic: !!d.preview_rows_public,
    members: (committee?.members ?? []).map(m =>
      m.kind === 'jupyter'
        ? { kind: 'jupyter', username: m.username ?? '', name: m.name, email: '' }
        : { kind: 'external', username: '', name: m.name, email: m.email ?? '' }
    ),
    requiredApprovals: String(committee?.required_approvals ?? 1),
    rule: committee?.rule ?? 'veto',
    ...splitConditions(d.use_conditions ?? []),
    agreement: d.agreement ?? ''
  };
}

/** Whether the committee applies (restricted now, or once the embargo ends). */
export function needsCommittee(state: Pick<IAccessState, 'level' | 'afterEmbargo'>): boolean {
  return (
    state.level === 'restricted' ||
    (state.level === 'embargoed' && state.afterEmbargo === 'restricted')
  );
}

/** Whether the level (or the embargo's date or its sequel) differs from the stored one. */
export function accessChanged(state: IAccessState, d: DatasetDetail): boolean {
  if (state.level !== d.access.level) {
    return true;
  }
  return (
    state.level === 'embargoed' &&
    (state.embargoUntil !== formatDate(d.access.embargo_until) ||
      state.afterEmbargo !== (d.access.after_embargo ?? 'open'))
  );
}

const memberKey = (m: CommitteeMemberInput) =>
  m.username ? `u:${m.username}` : `e:${(m.email ?? '').toLowerCase()}`;

export function buildAccessBody(
  state: IAccessState,
  d: DatasetDetail,
  committee: CommitteeInfo | null,
  options: { overrideReason?: string } = {}
): IBuiltUpdate {
  const body: UpdateBody = {};
  if (accessChanged(state, d)) {
    body.access = { level: state.level };
    if (state.level === 'embargoed') {
      body.access.embargo_until = state.embargoUntil;
      body.access.after_embargo = state.afterEmbargo;
    }
    if (options.overrideReason !== undefined) {
      body.privacy_override = { reason: options.overrideReason };
    }
  }
  if (state.previewRowsPublic !== !!d.preview_rows_public) {
    body.preview_rows_public = state.previewRowsPublic;
  }

  const memberRows: number[] = [];
  if (needsCommittee(state)) {
    const members = state.members
      .map((m, i) => ({ m, i }))
      .filter(({ m }) => (m.kind === 'jupyter' ? m.username.trim() : m.name.trim() || m.email.trim()))
      .map(({ m, i }): CommitteeMemberInput => {
        memberRows.push(i);
        return m.kind === 'jupyter'
          ? { username: m.username.trim() }
          : { name: m.name.trim(), email: m.email.trim() };
      });
    const required = Number(state.requiredApprovals);
    const spec = {
      members,
      // Not a number: sent as is, so the server names the field.
      required_approvals:
        state.requiredApprovals.trim() && Number.isFinite(required)
          ? required
          : (state.requiredApprovals as unknown as number),
      rule: state.rule
    };
    const before = committee
      ? {
          keys: committee.members.map(m => memberKey({ username: m.username ?? undefined, email: m.email ?? '' })),
          required: committee.required_approvals,
          rule: committee.rule
        }
      : null;
    const keys = members.map(memberKey);
    const committeeChanged =
      !before ||
      !same([...keys].sort(), [...before.keys].sort()) ||
      spec.required_approvals !== before.required ||
      spec.rule !== before.rule;
    if (committeeChanged) {
      body.committee = spec;
    }
    const conditions = useConditions(state.duoPrimary, state.diseaseTerm, state.duoModifiers);
    if (!same(conditions, d.use_conditions ?? [])) {
      body.use_conditions = conditions;
    }
    if (state.agreement.trim() !== (d.agreement ?? '').trim()) {
      body.agreement = state.agreement;
    }
  }

  const toFormField = (serverField: string | null): string | null =>
    serverField === null
      ? null
      : (remap(serverField, 'committee.members', memberRows) ?? serverField);
  return { body, changed: Object.keys(body), toFormField };
}

/** Every field the access form shows an error next to. */
export function accessFields(state: IAccessState): string[] {
  const out = [
    'access',
    'access.level',
    'access.embargo_until',
    'access.after_embargo',
    'preview_rows_public',
    'privacy_override',
    'privacy_override.reason',
    'committee',
    'committee.members',
    'committee.required_approvals',
    'committee.rule',
    'use_conditions',
    'agreement'
  ];
  state.members.forEach((_, i) => {
    for (const part of ['', '.username', '.name', '.email']) {
      out.push(`committee.members[${i}]${part}`);
    }
  });
  return out;
}

/** Words for the fields a save changed: `title, keywords and access`. */
export function describeChanges(fields: string[]): string {
  const words: Record<string, string> = {
    license: 'licence',
    license_text: 'licence text',
    related_publication: 'related publication',
    rights_declaration: 'rights declaration',
    preview_rows_public: 'public preview rows',
    use_conditions: 'data use conditions',
    privacy_override: ''
  };
  const names = fields.map(f => words[f] ?? f).filter(Boolean);
  if (names.length <= 1) {
    return names.join('');
  }
  return `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}
