// Two people chat through the web app in Chromium, against the server as `npm start` runs it.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { befriend, countMessages, launchBrowser, OUTPUT_DIR, registerUser, sendText, waitForMessage, type ChatUser } from './browser';
import { startServerProcess, type ServerProcess } from './server-process';

/** Messages per history page in the app (client/web/src/hooks/useConversation.ts). */
const PAGE_SIZE = 30;

/** Names unique per run, so a rerun against a kept database never collides. */
const run = Date.now().toString(36).slice(-5);

describe('web app in Chromium', () => {
  let server: ServerProcess;
  let browser: Browser;
  let alice: ChatUser;
  let bob: ChatUser;

  beforeAll(async () => {
    [server, browser] = await Promise.all([startServerProcess(), launchBrowser()]);
    alice = await registerUser(browser, server.url, `alice_${run}`, 'Alice');
    bob = await registerUser(browser, server.url, `bob_${run}`, 'Bob');
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('should make two users friends through search, an application and its acceptance', async () => {
    await befriend(alice, bob);
  });

  it('should show an unread badge for a new message, clear it when the chat is opened, and show Read to the sender', async () => {
    await alice.page.getByTestId(`contact-${bob.username}`).click();
    await sendText(alice, 'Hi Bob!');
    await waitForMessage(alice, 'Hi Bob!');

    const badge = bob.page.getByTestId(`contact-${alice.username}`).getByTestId('unread-badge');
    await badge.waitFor();
    expect(await badge.textContent()).toBe('1');

    await bob.page.getByTestId(`contact-${alice.username}`).click();
    await waitForMessage(bob, 'Hi Bob!');
    await badge.waitFor({ state: 'detached' });
    await alice.page.getByTestId('read-receipt').waitFor();
  });

  it('should deliver replies in real time and show who is typing', async () => {
    await bob.page.getByTestId('composer-input').fill('Hello Al');
    await alice.page.getByTestId('typing-indicator').getByText('Bob is typing…').waitFor();
    await sendText(bob, 'Hello Alice, how are you?');
    await waitForMessage(alice, 'Hello Alice, how are you?');
    await sendText(alice, 'Fine, thanks');
    await waitForMessage(bob, 'Fine, thanks');
    expect(await countMessages(bob, 'Fine, thanks')).toBe(1);
    await alice.page.screenshot({ path: path.join(OUTPUT_DIR, 'private-chat.png') });
  });

  it('should pin a conversation and recall an own message for both sides', async () => {
    await alice.page.getByTestId('toggle-pin').click();
    await alice.page.getByTestId(`contact-${bob.username}`).getByTestId('pinned-mark').waitFor();

    const recalled = alice.page.getByTestId('message').filter({ hasText: 'Fine, thanks' });
    await recalled.getByTestId('recall').click();
    await alice.page.locator('[data-testid=message][data-status=RECALLED]').waitFor();
    await bob.page.locator('[data-testid=message][data-status=RECALLED]').getByText('Message recalled').waitFor();
    expect(await countMessages(bob, 'Fine, thanks')).toBe(0);
  });

  it('should let a group be created with a friend and chat in it', async () => {
    const group = `Team ${run}`;
    await alice.page.getByTestId('tab-groups').click();
    await alice.page.getByTestId('group-name-input').fill(group);
    await alice.page.getByTestId(`group-member-${bob.username}`).check();
    await alice.page.getByTestId('create-group').click();
    await alice.page.getByTestId('chat-title').getByText(group).waitFor();
    await sendText(alice, 'Welcome to the team');
    await waitForMessage(alice, 'Welcome to the team');

    await bob.page.getByTestId(`contact-${group}`).click();
    await waitForMessage(bob, 'Welcome to the team');
    await sendText(bob, 'Glad to be here');
    await waitForMessage(alice, 'Glad to be here');

    await alice.page.getByTestId('toggle-members').click();
    expect(await alice.page.getByTestId(`member-${bob.username}`).getByTestId('member-role').textContent()).toBe('member');
    await alice.page.screenshot({ path: path.join(OUTPUT_DIR, 'group-chat.png') });
  });

  it('should show Reconnecting while the server is away and deliver a message sent meanwhile exactly once', async () => {
    await alice.page.getByTestId(`contact-${bob.username}`).click();
    await bob.page.getByTestId(`contact-${alice.username}`).click();

    await server.kill();
    await alice.page.getByTestId('reconnecting-banner').waitFor();
    await bob.page.getByTestId('reconnecting-banner').waitFor();
    await sendText(alice, 'Sent while the server was away');
    await alice.page.getByTestId('pending-message').getByText('Sending…').waitFor();
    await alice.page.screenshot({ path: path.join(OUTPUT_DIR, 'reconnecting.png') });
    await server.relaunch();

    await alice.page.getByTestId('reconnecting-banner').waitFor({ state: 'detached', timeout: 30000 });
    await bob.page.getByTestId('reconnecting-banner').waitFor({ state: 'detached', timeout: 30000 });
    await waitForMessage(bob, 'Sent while the server was away');
    await sendText(bob, 'Back again');
    await waitForMessage(alice, 'Back again');
    expect(await countMessages(bob, 'Sent while the server was away')).toBe(1);
    expect(await countMessages(alice, 'Sent while the server was away')).toBe(1);
    await alice.page.getByTestId('pending-message').waitFor({ state: 'detached' });
  });

  it('should resume the session after a reload and load older history when scrolled to the top', async () => {
    const { accessToken } = JSON.parse((await alice.page.evaluate<string | null>("localStorage.getItem('im.tokens')")) ?? '{}') as { accessToken: string };
    const graphql = async (query: string, variables: Record<string, unknown> = {}) => {
      const reply = await fetch(`${server.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${accessToken}` },
        body: JSON.stringify({ query, variables }),
      });
      return (await reply.json()) as { data: { searchUsers: { id: string }[] } };
    };
    const [bobUser] = (await graphql('query($q: String!) { searchUsers(query: $q) { id } }', { q: bob.username })).data.searchUsers;
    let last = { conversationId: '', seq: 0 };
    for (let i = 1; i <= PAGE_SIZE + 5; i++) {
      const sent = await graphql('mutation($input: SendMessageInput!) { sendMessage(input: $input) { conversationId seq } }', {
        input: { toUserId: bobUser?.id, content: `history #${i}`, clientMessageId: `history-${run}-${i}` },
      });
      last = (sent.data as unknown as { sendMessage: typeof last }).sendMessage;
    }

    // Bob's open page gets them live, and the SDK saves its catch-up cursor past them shortly after (a reload does
    // not close the client). Reloading before that would replay them through catch-up into the chat, and the
    // oldest would show without any scrolling: so wait until the saved cursor covers the last one.
    await waitForMessage(bob, `history #${PAGE_SIZE + 5}`);
    const covered = `${last.conversationId}:${last.seq}`;
    await bob.page.waitForFunction((entry) => {
      // Runs in the page (the test's tsconfig has no DOM types): the cursor is base64url of "conversation:seq,...".
      const { localStorage: storage, atob: decode } = globalThis as unknown as {
        localStorage: { length: number; key(i: number): string | null; getItem(key: string): string | null };
        atob(data: string): string;
      };
      for (let i = 0; i < storage.length; i++) {
        const key = storage.key(i) ?? '';
        const cursor = key.startsWith('im.cursor.') ? (storage.getItem(key) ?? '') : '';
        if (decode(cursor.replace(/-/g, '+').replace(/_/g, '/')).split(',').includes(entry)) return true;
      }
      return false;
    }, covered);
    await bob.page.reload();
    await bob.page.getByTestId(`contact-${alice.username}`).click();
    await waitForMessage(bob, `history #${PAGE_SIZE + 5}`);
    const oldest = bob.page.getByTestId('message-list').getByText('history #1', { exact: true });
    expect(await oldest.count()).toBe(0);
    await bob.page.getByTestId('message-list').evaluate((list) => list.scrollTo({ top: 0 }));
    await oldest.waitFor();
  });

  it('should make no request to any other host', () => {
    expect([...alice.offsite, ...bob.offsite]).toEqual([]);
  });
});
