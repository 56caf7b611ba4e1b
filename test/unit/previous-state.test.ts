import { describe, expect, it } from 'vitest';
import { PREVIOUS_STATE_CLASSES, previousStateClass, previousStateText, UNKNOWN_PREVIOUS_STATE } from '../../src/rotation/previous-state.ts';
import { describeRevoke } from '../../src/rotation/retire.ts';

const AT = new Date('2026-12-07T13:00:00Z');
const ARN = 'User: arn:aws:iam::123456789012:role/x is not authorized to perform: execute-api:Invoke';

describe('what became of a replaced credential: a text for the dashboard, a class for anyone', () => {
  it('gives every text the rotator writes its class, and every class a text', () => {
    const texts: Array<[string, string]> = [
      [describeRevoke({ state: 'revoked' }, 'ref-1'), 'revoked'],
      [describeRevoke({ state: 'already-gone' }, 'ref-1'), 'already-gone'],
      [describeRevoke({ state: 'nothing-to-revoke' }, ''), 'nothing-to-revoke'],
      [describeRevoke({ state: 'left-to-expire', expiresAt: AT }, 'ref-1'), 'left-to-expire'],
      [describeRevoke({ state: 'left-to-expire' }, 'ref-1'), 'left-to-expire'],
      [describeRevoke({ state: 'not-revoked', reason: `still listed after the DELETE (${ARN})`, expiresAt: AT }, 'ref-1'), 'not-revoked'],
      [previousStateText.kept(`AWSPREVIOUS of prod/credly/main holds it (${ARN})`), 'kept'],
      [previousStateText.scheduled(AT), 'scheduled'],
      // A failure that quotes "revoked" is still a failure.
      [previousStateText.revokeFailed(`revoke: credly delete-token: 403 Forbidden — revoked? (credly says: ${ARN})`), 'revoke-failed'],
    ];
    for (const [text, cls] of texts) expect(previousStateClass(text), text).toBe(cls);
    expect(new Set(texts.map(([, cls]) => cls))).toEqual(new Set(PREVIOUS_STATE_CLASSES));
    expect(previousStateText.scheduled(AT)).toBe('revoke scheduled for 2026-12-07T13:00:00.000Z');
  });

  it('calls a text of another wording "other", never echoing it', () => {
    for (const text of ['', 'revoked by hand', `gateway: ${ARN}`, 'Revoked']) expect(previousStateClass(text)).toBe(UNKNOWN_PREVIOUS_STATE);
  });
});
