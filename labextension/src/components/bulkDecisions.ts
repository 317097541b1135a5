/**
 * What the committee inbox says after a bulk decision (pure, tested). The server records one
 * decision per request; a request can stay pending (the rule needs more approvals) or be refused
 * on its own (already decided, not yours to decide) while the others go through.
 */
import { plural } from '../format';
import type { BulkDecisionResult, Decision } from '../types';

export interface IBulkOutcome {
  /** The success line, or '' when nothing was recorded. */
  summary: string;
  /** Request id → why that request was not decided. */
  errors: Record<string, string>;
  /** Requests whose decision was recorded (to clear from the selection). */
  recorded: string[];
}

export function bulkOutcome(results: BulkDecisionResult[], decision: Decision): IBulkOutcome {
  const errors: Record<string, string> = {};
  const recorded: string[] = [];
  const byStatus: Record<string, number> = {};
  for (const r of results) {
    if (r.error) {
      errors[r.id] = r.error;
    } else {
      recorded.push(r.id);
      const status = r.status ?? 'pending';
      byStatus[status] = (byStatus[status] ?? 0) + 1;
    }
  }
  if (!recorded.length) {
    return { summary: '', errors, recorded };
  }
  const parts = [
    byStatus.approved ? `${byStatus.approved} approved` : '',
    byStatus.denied ? `${byStatus.denied} denied` : '',
    byStatus.pending ? `${byStatus.pending} still pending (waiting for other members)` : ''
  ].filter(Boolean);
  const verb = decision === 'approve' ? 'approval' : 'denial';
  const failed = Object.keys(errors).length;
  const summary =
    `Recorded your ${plural(recorded.length, verb)}: ${parts.join(', ')}.` +
    (failed ? ` ${plural(failed, 'request')} could not be decided (see ${failed === 1 ? 'it' : 'them'} below).` : '');
  return { summary, errors, recorded };
}

/** Requests whose personal data was erased (the server blanks them to this marker). */
export const ERASED = '[erased]';
