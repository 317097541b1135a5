import { bulkOutcome } from '../components/bulkDecisions';

describe('bulk decisions', () => {
  it('counts what each recorded decision led to', () => {
    const out = bulkOutcome(
      [
        { id: 'req-1', status: 'approved' },
        { id: 'req-2', status: 'pending' },
        { id: 'req-3', status: 'approved' }
      ],
      'approve'
    );
    expect(out.summary).toBe('Recorded your 3 approvals: 2 approved, 1 still pending (waiting for other members).');
    expect(out.recorded).toEqual(['req-1', 'req-2', 'req-3']);
    expect(out.errors).toEqual({});
  });

  it('keeps the reason each refused request was not decided, next to that request', () => {
    const out = bulkOutcome(
      [
        { id: 'req-1', status: 'denied' },
        { id: 'req-2', error: 'decision: the request is already approved' }
      ],
      'deny'
    );
    expect(out.summary).toBe('Recorded your 1 denial: 1 denied. 1 request could not be decided (see it below).');
    expect(out.errors).toEqual({ 'req-2': 'decision: the request is already approved' });
    expect(out.recorded).toEqual(['req-1']);
  });

  it('says nothing was recorded when every request was refused', () => {
    const out = bulkOutcome([{ id: 'req-9', error: "no request 'req-9' for you to decide" }], 'approve');
    expect(out.summary).toBe('');
    expect(Object.keys(out.errors)).toEqual(['req-9']);
  });
});
