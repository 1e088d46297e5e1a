import type { CallMedia, CallOutcome } from '../../generated/graphql';

/** The content JSON the server stores in a CALL message when a call ends (README, "Calls"). */
export interface CallContent {
  callId: string;
  media: CallMedia;
  outcome: CallOutcome;
  /** Seconds from answer to hang-up for COMPLETED, else null. */
  durationSeconds: number | null;
}

/** A duration as a call shows it: 0:07, 1:05, 1:02:03. */
export function formatDuration(totalSeconds: number): string {
  const s = Math.max(0, Math.floor(totalSeconds));
  const mmss = `${Math.floor((s % 3600) / 60)}:${String(s % 60).padStart(2, '0')}`;
  return s >= 3600 ? `${Math.floor(s / 3600)}:${mmss.padStart(5, '0')}` : mmss;
}

/** The content of a CALL message, or null when it is not the JSON object the server writes. */
function parseCallContent(content: string): CallContent | null {
  try {
    const parsed: unknown = JSON.parse(content);
    return parsed && typeof parsed === 'object' && 'outcome' in parsed ? (parsed as CallContent) : null;
  } catch {
    return null;
  }
}

/** A CALL message as people read it: "Call, 1:05", "Missed video call", "Declined call". */
export function describeCall(content: string): string {
  const call = parseCallContent(content);
  if (!call) return 'Call';
  const kind = call.media === 'VIDEO' ? 'video call' : 'call';
  switch (call.outcome) {
    case 'COMPLETED':
      return `${call.media === 'VIDEO' ? 'Video call' : 'Call'}, ${formatDuration(call.durationSeconds ?? 0)}`;
    case 'MISSED':
      return `Missed ${kind}`;
    case 'REJECTED':
      return `Declined ${kind}`;
    case 'CANCELLED':
      return `Cancelled ${kind}`;
    case 'BUSY':
      return `Missed ${kind} (busy)`;
    default:
      return kind === 'call' ? 'Call' : 'Video call';
  }
}
