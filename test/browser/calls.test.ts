// Two friends call each other through the web app in Chromium: real WebRTC between two pages, fake camera.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import WebSocket from 'ws';
import { createImClient } from '../../client/sdk';
import { AcceptCallDocument, HangUpCallDocument } from '../../client/generated/graphql';
import { befriend, launchBrowser, OUTPUT_DIR, registerUser, type ChatUser } from './browser';
import { startServerProcess, type ServerProcess } from './server-process';

/** Names unique per run, so a rerun against a kept database never collides. */
const run = Date.now().toString(36).slice(-5);

describe('calls in the web app', () => {
  let server: ServerProcess;
  let browser: Browser;
  let alice: ChatUser;
  let bob: ChatUser;

  beforeAll(async () => {
    [server, browser] = await Promise.all([startServerProcess(), launchBrowser()]);
    alice = await registerUser(browser, server.url, `alice_${run}`, 'Alice');
    bob = await registerUser(browser, server.url, `bob_${run}`, 'Bob');
    await befriend(alice, bob);
    await alice.page.getByTestId(`contact-${bob.username}`).click();
    await bob.page.getByTestId(`contact-${alice.username}`).click();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('should connect a video call peer to peer, then leave a call line with its duration on both sides', async () => {
    await alice.page.getByTestId('call-video').click();
    await alice.page.getByTestId('outgoing-call').getByText('Calling Bob (video call)…').waitFor();
    const incoming = bob.page.getByTestId('incoming-call');
    await incoming.getByText('Alice is calling you (video call)').waitFor();
    await incoming.getByTestId('accept-call').click();

    const connected = '[data-testid=active-call][data-connection-state=connected]';
    await alice.page.locator(connected).waitFor({ timeout: 30000 });
    await bob.page.locator(connected).waitFor({ timeout: 30000 });
    await incoming.waitFor({ state: 'detached' });
    // The fake camera's frames arrive: the remote <video> plays with a size.
    for (const page of [alice.page, bob.page]) {
      await page.waitForFunction("(document.querySelector('[data-testid=remote-media]')?.videoWidth ?? 0) > 0");
    }
    await alice.page.getByTestId('call-duration').getByText(/^0:0[1-9]$/).waitFor({ timeout: 15000 });
    await alice.page.screenshot({ path: path.join(OUTPUT_DIR, 'video-call.png') });

    await alice.page.getByTestId('hang-up').click();
    await alice.page.getByTestId('active-call').waitFor({ state: 'detached' });
    await bob.page.getByTestId('call-notice').getByText('Call ended').waitFor();
    await bob.page.getByTestId('active-call').waitFor({ state: 'detached' });
    for (const user of [alice, bob]) {
      const line = user.page.getByTestId('call-line');
      await line.waitFor();
      expect(await line.textContent()).toMatch(/^Video call, \d+:\d\d$/);
    }
    // The call's players go with it.
    expect(await alice.page.locator('video').count()).toBe(0);
  });

  it('should show Declined to the caller and a declined call line to both when the callee declines', async () => {
    await bob.page.getByTestId('call-audio').click();
    const incoming = alice.page.getByTestId('incoming-call');
    await incoming.getByText('Bob is calling you (audio call)').waitFor();
    await incoming.getByTestId('decline-call').click();
    await incoming.waitFor({ state: 'detached' });
    await bob.page.getByTestId('call-notice').getByText('Declined').waitFor();
    for (const user of [alice, bob]) {
      await user.page.getByTestId('call-line').filter({ hasText: /^Declined call$/ }).waitFor();
    }
    expect(await bob.page.getByTestId('message').filter({ hasText: '{' }).count()).toBe(0);
  });

  it('should stop ringing on the web when another terminal of the callee answers', async () => {
    // One session per terminal kind: Bob's other terminal is the SDK as a PC client, next to his web page.
    const bobOnPc = createImClient({ url: `${server.url}/graphql`, terminal: 'PC', webSocketImpl: WebSocket });
    try {
      await bobOnPc.login({ username: bob.username, password: 'correct horse battery' });
      const connected = new Promise<void>((resolve) => bobOnPc.on('state', (state) => state === 'connected' && resolve()));
      if (bobOnPc.state !== 'connected') await connected;
      const rang = new Promise<string>((resolve) => bobOnPc.on('call', (event) => event.callChange === 'INVITED' && resolve(event.call.id)));

      await alice.page.getByTestId('call-audio').click();
      const ringing = bob.page.getByTestId('incoming-call');
      await ringing.getByText('Alice is calling you (audio call)').waitFor();
      const callId = await rang;
      await bobOnPc.request(AcceptCallDocument, { callId });
      await ringing.waitFor({ state: 'detached' });
      await alice.page.getByTestId('active-call').waitFor();
      expect(await bob.page.getByTestId('active-call').count()).toBe(0);

      await bobOnPc.request(HangUpCallDocument, { callId });
      await alice.page.getByTestId('call-notice').getByText('Call ended').waitFor();
      await alice.page.getByTestId('active-call').waitFor({ state: 'detached' });
    } finally {
      await bobOnPc.close();
    }
  });

  it('should stop ringing when the caller cancels and leave a cancelled call line', async () => {
    await alice.page.getByTestId('call-video').click();
    const ringing = bob.page.getByTestId('incoming-call');
    await ringing.waitFor();
    await alice.page.getByTestId('outgoing-call').getByTestId('cancel-call').click();
    await alice.page.getByTestId('outgoing-call').waitFor({ state: 'detached' });
    await ringing.waitFor({ state: 'detached' });
    for (const user of [alice, bob]) {
      await user.page.getByTestId('call-line').filter({ hasText: /^Cancelled video call$/ }).waitFor();
    }
  });
});
