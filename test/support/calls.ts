/** Operations and the events query of the call tests (test/calls.test.ts, test/cluster-calls.test.ts). */
/** The fields of a Call the tests read. */
export const CALL_FIELDS = 'id state media outcome durationSeconds acceptedAt endedAt caller { id } callee { id }';
export const INVITE = `mutation($u: ID!, $m: CallMedia) { inviteCall(calleeId: $u, media: $m) { ${CALL_FIELDS} } }`;
export const ACCEPT = `mutation($id: ID!) { acceptCall(callId: $id) { ${CALL_FIELDS} } }`;
export const REJECT = `mutation($id: ID!) { rejectCall(callId: $id) { ${CALL_FIELDS} } }`;
export const CANCEL = `mutation($id: ID!) { cancelCall(callId: $id) { ${CALL_FIELDS} } }`;
export const HANG_UP = `mutation($id: ID!) { hangUpCall(callId: $id) { ${CALL_FIELDS} } }`;
export const SIGNAL = `mutation($id: ID!, $k: CallSignalKind!, $p: String!) { sendCallSignal(callId: $id, kind: $k, payload: $p) }`;
export const CALL = `query($id: ID!) { call(id: $id) { ${CALL_FIELDS} } }`;
/** Catch-up, enough to find CALL messages. */
export const SYNC = `{ syncMessages(limit: 500) { messages { id type content conversationId sender { id } } } }`;

/** What the tests read of the stream: call events and messages. */
export const CALL_EVENTS = `subscription { events { __typename
  ... on CallEvent { callChange call { ${CALL_FIELDS} } signal { kind payload } }
  ... on MessageEvent { message { id type content sender { id } } }
} }`;

/** Matches the CallEvent of `callId` with `change`. */
export const callEvent = (change: string, callId: string) => (e: any) => e.__typename === 'CallEvent' && e.callChange === change && e.call.id === callId;
