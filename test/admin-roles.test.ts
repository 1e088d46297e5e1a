import { errorCode, gql, ok, register } from './support/client';
import { grantAdmin, runAdmin } from './support/admin';
import { useServer } from './support/server';

const AUDIT = `query($action: String, $first: Int, $after: ID) {
  auditLog(action: $action, first: $first, after: $after) { id actorId action subjectType subjectId reason details createdAt }
}`;

describe('the admin role', () => {
  const suite = useServer();

  it('should answer FORBIDDEN to a user without the role and UNAUTHENTICATED to nobody', async () => {
    const { server } = suite;
    const user = await register(server, 'plain');
    expect(await errorCode(server, AUDIT, {}, user.token)).toBe('FORBIDDEN');
    expect(await errorCode(server, AUDIT, {})).toBe('UNAUTHENTICATED');
  });

  it('should be granted by npm run admin on the host, logged with no actor, and take effect on the next request', async () => {
    const { server } = suite;
    const user = await register(server, 'boss');
    await grantAdmin(server, user);

    const { auditLog } = await ok(server, AUDIT, { action: 'GRANT_ADMIN' }, user.token);
    const entry = auditLog.find((e: { subjectId: string }) => e.subjectId === user.id);
    expect(entry).toMatchObject({ actorId: null, action: 'GRANT_ADMIN', subjectType: 'USER', reason: null });
    expect(JSON.parse(entry.details)).toEqual({ username: user.username });
    expect(Date.now() - Date.parse(entry.createdAt)).toBeLessThan(60_000);
  });

  it('should be revoked by npm run admin, after which the same token is FORBIDDEN', async () => {
    const { server } = suite;
    const user = await register(server, 'former');
    await grantAdmin(server, user);
    expect((await gql(server, AUDIT, {}, user.token)).errors).toBeUndefined();

    const run = await runAdmin(server, 'revoke', user.username.toUpperCase());
    expect(run).toMatchObject({ code: 0 });
    expect(await errorCode(server, AUDIT, {}, user.token)).toBe('FORBIDDEN');
    const admin = await register(server, 'witness');
    await grantAdmin(server, admin);
    const { auditLog } = await ok(server, AUDIT, { action: 'REVOKE_ADMIN' }, admin.token);
    expect(auditLog.map((e: { subjectId: string }) => e.subjectId)).toContain(user.id);
  });

  it('should refuse an unknown username with exit code 1 and bad usage with 2, changing nothing', async () => {
    const { server } = suite;
    const unknown = await runAdmin(server, 'grant', 'nobody_at_all');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no user named nobody_at_all');
    expect((await runAdmin(server, 'grant')).code).toBe(2);
    expect((await runAdmin(server, 'promote', 'x')).code).toBe(2);
  });

  it('should page the audit log newest first with first and after', async () => {
    const { server } = suite;
    const admin = await register(server, 'pager');
    await grantAdmin(server, admin);
    for (let i = 0; i < 3; i++) await grantAdmin(server, await register(server, 'extra'));
    const first = (await ok(server, AUDIT, { first: 2 }, admin.token)).auditLog;
    const next = (await ok(server, AUDIT, { first: 2, after: first[1].id }, admin.token)).auditLog;
    const ids = [...first, ...next].map((e: { id: string }) => Number(e.id));
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    expect(new Set(ids).size).toBe(4);
  });
});
