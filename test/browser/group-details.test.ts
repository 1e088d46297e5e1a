// Group details in the web app in Chromium: names and remarks, mute everyone, and what admins and services do to a
// group (a refusal by the word filter, a system notice, a suspension), as its members see them live.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser } from 'playwright-core';
import { createService, runAdmin } from '../support/admin';
import { befriend, launchBrowser, OUTPUT_DIR, registerUser, sendText, waitForMessage, type ChatUser } from './browser';
import { startServerProcess, type ServerProcess } from './server-process';

/** Names unique per run, so a rerun against a kept database never collides. */
const run = Date.now().toString(36).slice(-5);

describe('group details in the web app', () => {
  let server: ServerProcess;
  let browser: Browser;
  let owner: ChatUser;
  let member: ChatUser;
  let groupId: string;
  const group = `Deck ${run}`;

  /** One GraphQL request over HTTP, as a script (an admin, a service) would make it; fails on any error. */
  async function gql<T>(bearer: string | null, query: string, variables: Record<string, unknown> = {}): Promise<T> {
    const response = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as { data?: T; errors?: unknown[] };
    if (body.errors?.length) throw new Error(JSON.stringify(body.errors));
    return body.data as T;
  }

  /** An admin's access token: registered over HTTP, then granted the role on the host. */
  async function adminToken(): Promise<string> {
    const username = `ada_${run}`;
    const { register } = await gql<{ register: { accessToken: string } }>(
      null,
      'mutation($input: RegisterInput!) { register(input: $input) { accessToken } }',
      { input: { username, password: 'correct horse battery', nickname: 'Ada' } },
    );
    const grant = await runAdmin({ databaseUrl: server.databaseUrl }, 'grant', username);
    expect(grant.code).toBe(0);
    return register.accessToken;
  }
  let admin: Promise<string> | undefined;
  /** The one admin of the run, made by the first test that needs one. */
  const asAdmin = (): Promise<string> => (admin ??= adminToken());

  const composer = (user: ChatUser) => user.page.getByTestId('composer-input');

  beforeAll(async () => {
    [server, browser] = await Promise.all([startServerProcess(), launchBrowser()]);
    owner = await registerUser(browser, server.url, `oona_${run}`, 'Oona');
    member = await registerUser(browser, server.url, `mick_${run}`, 'Mick');
    await befriend(owner, member);
    await owner.page.getByTestId('tab-groups').click();
    await owner.page.getByTestId('group-name-input').fill(group);
    await owner.page.getByTestId(`group-member-${member.username}`).check();
    await owner.page.getByTestId('create-group').click();
    await owner.page.getByTestId('chat-title').getByText(group).waitFor();
    await owner.page.getByTestId('toggle-members').click();
    groupId = ((await owner.page.getByTestId('group-details').locator('.id').textContent()) ?? '').replace(/^id\s*/, '').trim();
    await member.page.getByTestId(`contact-${group}`).click();
    await member.page.getByTestId('toggle-members').click();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it("should show a member's display name in the group live on the owner's page, and their nickname before", async () => {
    const seenByOwner = owner.page.getByTestId(`member-${member.username}`).getByTestId('member-name');
    expect(await seenByOwner.textContent()).toBe('Mick');

    await member.page.getByTestId('display-name-input').fill('Captain Mick');
    await member.page.getByTestId('display-name-save').click();

    await seenByOwner.getByText('Captain Mick').waitFor();
    expect(await seenByOwner.textContent()).toBe('Captain Mick (Mick)');
  });

  it('should show the viewer their own remark for a group in the contact list, and nobody else', async () => {
    await owner.page.getByTestId('group-remark-input').fill('Sailing club');
    await owner.page.getByTestId('group-remark-save').click();

    await owner.page.getByTestId(`contact-${group}`).getByText(`Sailing club (${group})`).waitFor();
    await sendText(owner, 'Remark set');
    await waitForMessage(member, 'Remark set');
    expect(await member.page.getByTestId(`contact-${group}`).textContent()).not.toContain('Sailing club');
  });

  it("should show a friend's remark, set in the friends panel, instead of their nickname", async () => {
    await owner.page.getByTestId('tab-friends').click();
    const row = owner.page.getByTestId(`friend-${member.username}`);
    await row.getByTestId('edit-friend-remark').click();
    await row.getByTestId('friend-remark-input').fill('Mick from the marina');
    await row.getByTestId('friend-remark-save').click();

    await row.getByTestId('friend-name').getByText('Mick from the marina').waitFor();
    await row.getByTestId('friend-remark-input').waitFor({ state: 'detached' });
    await owner.page.getByTestId('tab-chats').click();
    await owner.page.getByTestId(`contact-${group}`).click();
  });

  it("should disable a plain member's composer with a notice while everyone is muted, let the owner still send, and enable it again", async () => {
    if (!(await owner.page.getByTestId('group-details').isVisible())) await owner.page.getByTestId('toggle-members').click();
    expect(await member.page.getByTestId('mute-all').count()).toBe(0);
    // A controlled switch: it turns on once the server answers, so click rather than check() (which wants it at once).
    await owner.page.getByTestId('mute-all').click();

    await member.page.getByTestId('composer-notice').getByText('only the owner and admins can send').waitFor();
    expect(await composer(member).isDisabled()).toBe(true);
    await member.page.screenshot({ path: path.join(OUTPUT_DIR, 'group-muted.png') });
    expect(await owner.page.getByTestId('composer-notice').count()).toBe(0);
    await sendText(owner, 'Quiet please');
    await waitForMessage(member, 'Quiet please');

    expect(await owner.page.getByTestId('mute-all').isChecked()).toBe(true);
    await owner.page.getByTestId('mute-all').click();
    await member.page.getByTestId('composer-notice').waitFor({ state: 'detached' });
    expect(await composer(member).isEnabled()).toBe(true);
    await sendText(member, 'Thanks');
    await waitForMessage(owner, 'Thanks');
  });

  it('should show a send refused by the word filter as a readable message near the composer', async () => {
    const token = await asAdmin();
    const { createWordList } = await gql<{ createWordList: { id: string } }>(token, 'mutation { createWordList(name: "banned", action: REFUSE) { id } }');
    await gql(token, 'mutation($id: ID!) { addWords(listId: $id, words: ["kraken"]) { version } }', { id: createWordList.id });

    await sendText(member, 'Release the kraken');

    await member.page.getByTestId('send-refusal').getByText('Your content contains words that are not allowed here.').waitFor();
    await member.page.getByTestId('pending-message').getByTestId('retry-send').waitFor();
  });

  it('should render a service message as a system notice, not a bubble', async () => {
    const service = await createService({ databaseUrl: server.databaseUrl }, 'harbour');
    await gql(service.key, 'mutation($input: SendSystemMessageInput!) { sendSystemMessage(input: $input) { id } }', {
      input: { toGroupId: groupId, content: 'Storm warning tonight', idempotencyKey: `storm-${run}` },
    });

    const notice = member.page.getByTestId('system-message').filter({ hasText: 'Storm warning tonight' });
    await notice.waitFor();
    expect(await notice.textContent()).toContain(service.name);
    expect(await member.page.getByTestId('message').filter({ hasText: 'Storm warning tonight' }).count()).toBe(0);
  });

  it('should show a suspended group with its reason and a disabled composer to every member, until the ban is lifted', async () => {
    const bearer = await asAdmin();
    await gql(bearer, 'mutation($id: ID!) { banGroup(groupId: $id, reason: "spam links") { reason } }', { id: groupId });

    for (const user of [owner, member]) {
      await user.page.getByTestId('group-banned').getByText('This group was suspended: spam links').waitFor();
      expect(await composer(user).isDisabled()).toBe(true);
    }
    await member.page.screenshot({ path: path.join(OUTPUT_DIR, 'group-suspended.png') });

    await gql(bearer, 'mutation($id: ID!) { unbanGroup(groupId: $id, reason: "cleaned up") { reason } }', { id: groupId });
    await member.page.getByTestId('group-banned').waitFor({ state: 'detached' });
    expect(await composer(member).isEnabled()).toBe(true);
  });
});
