// The line a CALL message shows in the web app's history and conversation list (client/web/src/call-content.ts).
import { describe, expect, it } from '@jest/globals';
import { describeCall, formatDuration } from '../client/web/src/call-content';
import { messagePreview } from '../client/web/src/media-content';

const content = (media: string, outcome: string, durationSeconds: number | null = null) =>
  JSON.stringify({ callId: 'c1', media, outcome, durationSeconds });

describe('call history lines', () => {
  it('should format durations as m:ss, and h:mm:ss from an hour on', () => {
    expect(formatDuration(0)).toBe('0:00');
    expect(formatDuration(65)).toBe('1:05');
    expect(formatDuration(3723)).toBe('1:02:03');
  });

  it('should describe each outcome in words, with the duration of a completed call', () => {
    expect(describeCall(content('AUDIO', 'COMPLETED', 65))).toBe('Call, 1:05');
    expect(describeCall(content('VIDEO', 'COMPLETED', 7))).toBe('Video call, 0:07');
    expect(describeCall(content('VIDEO', 'MISSED'))).toBe('Missed video call');
    expect(describeCall(content('AUDIO', 'REJECTED'))).toBe('Declined call');
    expect(describeCall(content('AUDIO', 'CANCELLED'))).toBe('Cancelled call');
    expect(describeCall(content('VIDEO', 'BUSY'))).toBe('Missed video call (busy)');
  });

  it('should never show raw JSON, even for content it cannot read', () => {
    expect(describeCall('not json')).toBe('Call');
    expect(describeCall('[1,2]')).toBe('Call');
    expect(messagePreview({ type: 'CALL', content: content('AUDIO', 'MISSED'), status: 'SENT' })).toBe('Missed call');
  });
});
