import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Where screenshots go (gitignored). */
export const OUTPUT_DIR = path.join(__dirname, '../../test-output');

/**
 * Debian's Chromium, headless. `launch` gives the browser a fresh temporary profile (user-data dir) of its own;
 * the flags keep it from talking to anything but the server under test, and give calls a fake camera and
 * microphone that need no permission prompt.
 */
export function launchBrowser(): Promise<Browser> {
  mkdirSync(OUTPUT_DIR, { recursive: true });
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
    ],
  });
}

/** A user driving the app in a browser context of their own (own localStorage, own session). */
export interface ChatUser {
  page: Page;
  username: string;
  /** Requests the page tried to make to any other origin (refused); the app makes none. */
  offsite: string[];
}

/** Opens the app in a new context and registers `username` through the form; resolves once signed in. */
export async function registerUser(browser: Browser, baseUrl: string, username: string, nickname: string): Promise<ChatUser> {
  const context = await browser.newContext({ viewport: { width: 1100, height: 700 } });
  const page = await context.newPage();
  const offsite: string[] = [];
  await page.route(
    (url) => url.origin !== baseUrl,
    (route) => {
      offsite.push(route.request().url());
      return route.abort();
    },
  );
  await page.goto(baseUrl);
  await page.getByTestId('auth-mode-register').click();
  await page.getByTestId('auth-username').fill(username);
  await page.getByTestId('auth-password').fill('correct horse battery');
  await page.getByTestId('auth-nickname').fill(nickname);
  await page.getByTestId('auth-submit').click();
  await page.getByTestId('me').waitFor();
  return { page, username, offsite };
}

/** Types `text` in the open conversation and sends it. */
export async function sendText(user: ChatUser, text: string): Promise<void> {
  await user.page.getByTestId('composer-input').fill(text);
  await user.page.getByTestId('composer-send').click();
}

/** Resolves once the open conversation shows a confirmed message with exactly `text`. */
export async function waitForMessage(user: ChatUser, text: string): Promise<void> {
  await user.page.getByTestId('message').filter({ hasText: text }).first().waitFor();
}

/** How many confirmed messages with `text` the open conversation shows. */
export function countMessages(user: ChatUser, text: string): Promise<number> {
  return user.page.getByTestId('message').filter({ hasText: text }).count();
}

/** `from` finds `to` by username and asks to be friends, `to` accepts; resolves once both see the chat in Chats. */
export async function befriend(from: ChatUser, to: ChatUser): Promise<void> {
  await from.page.getByTestId('tab-friends').click();
  await from.page.getByTestId('friend-search-input').fill(to.username);
  await from.page.getByTestId('friend-search-submit').click();
  await from.page.getByTestId(`search-result-${to.username}`).getByTestId('add-friend').click();

  await to.page.getByTestId('tab-friends').click();
  await to.page.getByTestId(`application-from-${from.username}`).getByTestId('accept-application').click();
  await to.page.getByTestId(`friend-${from.username}`).waitFor();
  await from.page.getByTestId(`friend-${to.username}`).waitFor();

  await from.page.getByTestId('tab-chats').click();
  await to.page.getByTestId('tab-chats').click();
  await from.page.getByTestId(`contact-${to.username}`).waitFor();
  await to.page.getByTestId(`contact-${from.username}`).waitFor();
}
