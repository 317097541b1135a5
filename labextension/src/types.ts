/**
 * Shapes of the datashare REST API's JSON (see the README's "HTTP API").
 */

export type Level = 'open' | 'embargoed' | 'reviewer-only' | 'restricted';
export type Decision = 'approve' | 'deny';

export interface AccessInfo {
  level: Level;
  level_in_force: Level;
  embargo_until: string | null;
  after_embargo: Level | null;
}

export interface Creator {
  name: string;
  orcid?: string;
  affiliation?: string;
  /** `https://ror.org/…`, the affiliation's ROR id. */
  affiliation_ror?: string;
}

export interface DatasetSummary {
  id: string;
  title: string;
  access: AccessInfo;
  version: number;
  file_count: number;
  total_size: number;
  created_at: string;
  withdrawn: boolean;
}

/** One cell of a preview's first rows, as JSON gives it (dates come as ISO strings). */
export type PreviewCell = string | number | boolean | null;

/**
 * A table's preview, computed once at share time (`core/previews.py`): its schema, row count,
 * quality summary and first rows; or only `error` when the file could not be read as a table.
 */
export interface FilePreview {
  columns?: { name: string; type: string }[];
  rows?: number;
  rows_are?: 'exact' | 'estimated';
  /** What the missing and duplicate counts cover: `all rows` or `the first 10,000 rows`. */
  summary_of?: string;
  missing?: Record<string, number>;
  duplicate_rows?: number;
  head?: PreviewCell[][];
  /** Rows left out of this view (restricted or embargoed data without the opt-in). */
  head_hidden?: boolean;
  error?: string;
}

export interface DatasetFile {
  path: string;
  size: number;
  sha256: string;
  url?: string;
  /** `null` for files that are not tables. */
  preview?: FilePreview | null;
}

export interface VersionInfo {
  number: number;
  created_at: string;
  file_count: number;
  total_size: number;
}

export interface LicenceInfo {
  id: string;
  name: string;
  summary?: string;
  text?: string | null;
}

/** What the authors declare about the data (feeds the data rights statement). */
export interface RightsDeclaration {
  no_secrets?: boolean;
  no_unprotected_personal_data?: boolean;
  principal_investigator?: string;
  first_author?: string;
  corresponding_author?: string;
}

export interface DatasetDetail {
  id: string;
  title: string;
  description: string;
  keywords: string[];
  license: LicenceInfo;
  related_publication: string | null;
  access: AccessInfo;
  version: number;
  latest_version: number;
  created_at: string;
  files: DatasetFile[];
  file_count: number;
  total_size: number;
  withdrawn: boolean;
  creators?: Creator[];
  owner: string;
  source_path: string;
  include_hidden: boolean;
  versions: VersionInfo[];
  updated_at: string;
  withdrawn_at: string | null;
  withdrawal_reason: string | null;
  landing_page: string;
  preview_rows_public: boolean;
  provenance: string;
  rights_declaration: RightsDeclaration;
  use_conditions: string[];
  agreement: string;
}

export interface CommitteeLink {
  member_id: string;
  name: string;
  email: string;
  url: string;
}

export interface ShareResult extends DatasetDetail {
  committee_links: CommitteeLink[];
}

/** A dataset's access as sharing and PATCH send it. */
export interface AccessInput {
  level: Level;
  embargo_until?: string;
  after_embargo?: Level;
}

/** A restricted dataset's committee as sharing and PATCH send it. */
export interface CommitteeInput {
  members: CommitteeMemberInput[];
  required_approvals: number;
  rule: 'veto' | 'majority';
}

/** The body of `PATCH datashare/api/datasets/{id}`: only the fields that change. */
export interface UpdateBody {
  title?: string;
  description?: string;
  creators?: Creator[];
  keywords?: string[];
  license?: string;
  license_text?: string;
  related_publication?: string;
  provenance?: string;
  rights_declaration?: RightsDeclaration;
  access?: AccessInput;
  committee?: CommitteeInput;
  use_conditions?: string[];
  agreement?: string;
  preview_rows_public?: boolean;
  /** Open the data despite the privacy check's findings, with the reason (audited). */
  privacy_override?: { reason: string };
}

/** What the privacy check found before data goes open (never the values themselves). */
export interface PrivacyFinding {
  file?: string;
  column?: string;
  kind: string;
  count: number;
}

/** `GET datashare/api/datasets/{id}/citation` (`core/citation.py`). */
export interface Citation {
  datacite: Record<string, unknown>;
  bibtex: string;
  text: string;
  availability_statement: string;
  rights_statement: string;
  generated_at: string;
}

export interface BulkDecisionBody {
  requests: string[];
  decision: Decision;
  reason?: string;
}

/** One request's outcome in a bulk decision: its new status, or why it was not decided. */
export interface BulkDecisionResult {
  id: string;
  status?: AccessRequest['status'];
  error?: string;
}

export interface CommitteeMemberInput {
  username?: string;
  name?: string;
  email?: string;
}

export interface ShareBody {
  path: string;
  title: string;
  description?: string;
  creators?: Creator[];
  keywords?: string[];
  license?: string;
  license_text?: string;
  related_publication?: string;
  include_hidden?: boolean;
  access: AccessInput;
  committee?: CommitteeInput;
  use_conditions?: string[];
  agreement?: string;
}

export interface ReviewLink {
  id: string;
  dataset_id: string;
  version: number;
  label: string;
  anonymous: boolean;
  allow_restricted: boolean;
  created_at: string;
  expires_at: string;
  revoked_at: string | null;
  use_count: number;
  last_used_at: string | null;
  state: 'active' | 'expired' | 'revoked';
}

export interface NewLink extends ReviewLink {
  /** The capability URL: the only time the server shows it. */
  url: string;
}

export interface LinkCreateBody {
  label?: string;
  expires_in_days?: number;
  anonymous?: boolean;
  allow_restricted?: boolean;
  version?: number;
}

export interface DuoTerm {
  code: string;
  meaning: string;
}

export interface Grant {
  id: string;
  state: 'active' | 'expired' | 'revoked';
  issued_at: string;
  expires_at: string;
  revoked_at: string | null;
  revoke_reason: string | null;
  use_count: number;
  last_used_at: string | null;
  renewal_requested_at: string | null;
  request_id?: string;
}

export interface AccessRequest {
  id: string;
  dataset_id: string;
  dataset_title: string;
  status: 'pending' | 'approved' | 'denied';
  name: string;
  email: string;
  institution: string;
  orcid: string | null;
  purpose: string;
  intended_use: DuoTerm[];
  commercial: boolean;
  conditions: DuoTerm[];
  flags: string[];
  agreement_sha256: string;
  requested_days: number;
  submitted_at: string;
  decided_at: string | null;
  reason: string | null;
  required_approvals: number;
  rule: 'veto' | 'majority';
  decisions: {
    member: string;
    decision: Decision;
    reason: string | null;
    decided_at: string;
  }[];
  grant: Grant | null;
  /** Names of the current committee members who decide (none of them can act as the owner). */
  deciders: string[];
  /** Whether the reader is a current member of this dataset's committee. */
  you_are_member: boolean;
  /** The reader's own decision on this request, if they made one. */
  your_decision: Decision | null;
  /** Whether the reader may decide it now: a member who has not decided, did not ask for it,
   * and cannot act as the owner (the owner reads requests but never decides them). */
  you_may_decide: boolean;
}

export interface CommitteeMember {
  id: string;
  username: string | null;
  name: string;
  email: string | null;
  kind: 'jupyter' | 'external';
  counts_towards_quorum: boolean;
}

export interface CommitteeInfo {
  members: CommitteeMember[];
  required_approvals: number;
  rule: 'veto' | 'majority';
}

export interface AuditEvent {
  seq: number;
  ts: string;
  actor: string;
  action: string;
  outcome: string;
  dataset_id: string | null;
  version: number | null;
  file: string | null;
  byte_range: string | null;
  reason: string | null;
  client: string | null;
  link_id: string | null;
  grant_id: string | null;
  details: Record<string, unknown> | null;
  entry_hash: string;
}

/** A signed checkpoint (C2SP note) of the audit log and the key that verifies it. */
export interface SignedCheckpoint {
  checkpoint: string | null;
  verifier_key: string;
}

export interface VerifyReport {
  ok: boolean;
  events: number;
  checkpoints: number;
  first_bad_event: number | null;
  problem: string | null;
  checkpoint: string | null;
  /** Checked from event #1; otherwise from `from_size`, verified before (`from_kind`, at `from_time`). */
  full?: boolean;
  from_size?: number;
  from_kind?: string | null;
  from_time?: string | null;
  /** Events hashed by this verification. */
  checked?: number;
}
