// Running a group through the web app in Chromium: applying to join, roles, removal, leaving, and muting.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser } from 'playwright-core';
import { befriend, launchBrowser, registerUser, sendText, waitForMessage, type ChatUser } from './browser';
import { startServerProcess, type ServerProcess } from './server-process';

/** Names unique per run, so a rerun against a kept database never collides. */
const run = Date.now().toString(36).slice(-5);

describe('group management in the web app', () => {
  let server: ServerProcess;
  let browser: Browser;
  let owner: ChatUser;
  let friend: ChatUser;
  let stranger: ChatUser;
  const group = `Crew ${run}`;
  const role = (viewer: ChatUser, member: ChatUser) => viewer.page.getByTestId(`member-${member.username}`).getByTestId('member-role');

  beforeAll(async () => {
    [server, browser] = await Promise.all([startServerProcess(), launchBrowser()]);
    owner = await registerUser(browser, server.url, `olga_${run}`, 'Olga');
    friend = await registerUser(browser, server.url, `fred_${run}`, 'Fred');
    stranger = await registerUser(browser, server.url, `sam_${run}`, 'Sam');
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('should let a friend be added at creation and a stranger join by applying with the group id', async () => {
    await befriend(owner, friend);
    await owner.page.getByTestId('tab-groups').click();
    await owner.page.getByTestId('group-name-input').fill(group);
    await owner.page.getByTestId(`group-member-${friend.username}`).check();
    await owner.page.getByTestId('create-group').click();
    await owner.page.getByTestId('chat-title').getByText(group).waitFor();

    await owner.page.getByTestId('tab-groups').click();
    const groupId = (await owner.page.getByTestId(`group-${group}`).getByTestId('group-id').textContent())?.replace(/^id\s*/, '').trim() ?? '';
    expect(groupId).not.toBe('');
    await stranger.page.getByTestId('tab-groups').click();
    await stranger.page.getByTestId('join-group-input').fill(groupId);
    await stranger.page.getByTestId('join-group').click();

    await owner.page.getByTestId('tab-friends').click();
    await owner.page.getByTestId(`application-from-${stranger.username}`).getByText(`asks to join ${group}`).waitFor();
    await owner.page.getByTestId(`application-from-${stranger.username}`).getByTestId('accept-application').click();
    await stranger.page.getByTestId('tab-chats').click();
    await stranger.page.getByTestId(`contact-${group}`).click();
    await owner.page.getByTestId('tab-chats').click();
    await owner.page.getByTestId(`contact-${group}`).click();
    await sendText(owner, 'Welcome, Sam');
    await waitForMessage(stranger, 'Welcome, Sam');
  });

  it('should let the owner make a member admin and back, and every member see the new role', async () => {
    await owner.page.getByTestId('toggle-members').click();
    await friend.page.getByTestId('tab-chats').click();
    await friend.page.getByTestId(`contact-${group}`).click();
    await friend.page.getByTestId('toggle-members').click();
    expect(await role(owner, friend).textContent()).toBe('member');

    await owner.page.getByTestId(`member-${friend.username}`).getByRole('button', { name: 'Make admin' }).click();
    await role(owner, friend).getByText('admin', { exact: true }).waitFor();
    await role(friend, friend).getByText('admin', { exact: true }).waitFor();
    // Only the owner sets roles: an admin sees no such button.
    expect(await friend.page.getByRole('button', { name: /Make (admin|member)/ }).count()).toBe(0);

    await owner.page.getByTestId(`member-${friend.username}`).getByRole('button', { name: 'Make member' }).click();
    await role(friend, friend).getByText('member', { exact: true }).waitFor();
  });

  it('should let the owner remove a member, whose open chat then closes and whose list loses the group', async () => {
    await owner.page.getByTestId(`member-${stranger.username}`).getByRole('button', { name: 'Remove' }).click();
    await owner.page.getByTestId(`member-${stranger.username}`).waitFor({ state: 'detached' });
    await friend.page.getByTestId(`member-${stranger.username}`).waitFor({ state: 'detached' });

    await stranger.page.getByTestId('conversation-gone').waitFor();
    expect(await stranger.page.getByTestId(`contact-${group}`).count()).toBe(0);
    expect(await stranger.page.getByTestId('composer-input').count()).toBe(0);
    await sendText(owner, 'After the removal');
    await waitForMessage(friend, 'After the removal');
    expect(await stranger.page.getByText('After the removal').count()).toBe(0);
  });

  it('should mute a group so that its unread badge turns quiet, and let a member leave', async () => {
    await friend.page.getByTestId('toggle-mute').click();
    await friend.page.getByTestId(`contact-${group}`).getByTestId('muted-mark').waitFor();
    // An open chat is read as messages arrive: look at another one meanwhile.
    await friend.page.getByTestId(`contact-${owner.username}`).click();
    await sendText(owner, 'Anyone there?');
    const badge = friend.page.getByTestId(`contact-${group}`).getByTestId('unread-badge');
    await badge.waitFor();
    expect(await badge.getAttribute('class')).toContain('quiet');

    await friend.page.getByTestId(`contact-${group}`).click();
    if (!(await friend.page.getByTestId('group-details').isVisible())) await friend.page.getByTestId('toggle-members').click();
    await friend.page.getByTestId('leave-group').click();
    await owner.page.getByTestId(`member-${friend.username}`).waitFor({ state: 'detached' });
  });
});
