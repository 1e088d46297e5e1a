import type { ApplicationFieldsFragment } from '../../../generated/graphql';
import { useAcceptApplicationMutation, useApplicationsQuery, useRejectApplicationMutation } from '../../../generated/hooks';
import { useImEvent } from '../im-context';

function describe(application: ApplicationFieldsFragment, incoming: boolean): string {
  if (application.type === 'GROUP') {
    const group = application.group?.name ?? 'a group';
    return incoming ? `${application.applicant.nickname} asks to join ${group}` : `You asked to join ${group}`;
  }
  return incoming ? `${application.applicant.nickname} wants to be friends` : `You asked ${application.target?.nickname ?? 'someone'}`;
}

/** Friend and group applications: incoming ones to accept or reject, outgoing ones with their status. */
export function ApplicationsList() {
  const [incoming, refetchIncoming] = useApplicationsQuery({ variables: { direction: 'INCOMING', status: 'PENDING', first: 50 } });
  const [outgoing, refetchOutgoing] = useApplicationsQuery({ variables: { direction: 'OUTGOING', first: 20 } });
  const [accepting, accept] = useAcceptApplicationMutation();
  const [rejecting, reject] = useRejectApplicationMutation();
  useImEvent('application', () => {
    refetchIncoming({ requestPolicy: 'network-only' });
    refetchOutgoing({ requestPolicy: 'network-only' });
  });
  const answered = () => refetchIncoming({ requestPolicy: 'network-only' });
  const busy = accepting.fetching || rejecting.fetching;

  return (
    <>
      <h3>Applications</h3>
      {(accepting.error ?? rejecting.error) && <p className="error">{(accepting.error ?? rejecting.error)?.message}</p>}
      <ul className="list" data-testid="incoming-applications">
        {incoming.data?.applications.length === 0 && <li className="placeholder">No applications waiting.</li>}
        {incoming.data?.applications.map((application) => (
          <li key={application.id} className="row" data-testid={`application-from-${application.applicant.username}`}>
            <span className="title">{describe(application, true)}</span>
            <button type="button" disabled={busy} onClick={() => accept({ id: application.id }).then(answered)} data-testid="accept-application">
              Accept
            </button>
            <button type="button" disabled={busy} onClick={() => reject({ id: application.id }).then(answered)} data-testid="reject-application">
              Reject
            </button>
          </li>
        ))}
      </ul>
      <ul className="list" data-testid="outgoing-applications">
        {outgoing.data?.applications.map((application) => (
          <li key={application.id} className="row">
            <span className="title">{describe(application, false)}</span>
            <small>{application.status.toLowerCase()}</small>
          </li>
        ))}
      </ul>
    </>
  );
}
