/**
 * Who decides an access request, and what the reader's part is (pure, tested). The owner reads
 * every request of their datasets but only the committee decides, so the panel offers Approve /
 * Deny only where the server says the reader may decide (`you_may_decide`).
 */
import { plural } from '../format';
import type { AccessRequest } from '../types';

export interface IWhoDecides {
  /** "Decided by the committee: …" (or that nobody can decide yet). */
  committee: string;
  /** The reader's part: on the committee, already decided, may not decide, or only reads. */
  you: string;
}

export function whoDecides(r: AccessRequest): IWhoDecides {
  const needed = plural(r.required_approvals, 'approval');
  const committee = r.deciders.length
    ? `Decided by the committee: ${r.deciders.join(', ')} (${needed} needed${r.rule === 'veto' ? ', a denial vetoes' : ', by majority'}).`
    : 'No committee member can decide this request: add one under Committee.';
  let you: string;
  if (r.you_may_decide) {
    you = 'You are on this committee.';
  } else if (r.you_are_member && r.your_decision) {
    you =
      r.status === 'pending'
        ? `You ${r.your_decision === 'approve' ? 'approved' : 'denied'} it; the other members have not all decided yet.`
        : `You ${r.your_decision === 'approve' ? 'approved' : 'denied'} it.`;
  } else if (r.you_are_member) {
    you =
      r.status === 'pending'
        ? 'You are on this committee but may not decide this request (you asked for it, or you can act as the owner).'
        : 'You are on this committee.';
  } else {
    you = r.status === 'pending' ? 'You can read this request; you are not on its committee.' : '';
  }
  return { committee, you };
}
