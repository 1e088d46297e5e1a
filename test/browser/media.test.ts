// Two people exchange an image and a file through the web app in Chromium, against the server as `npm start` runs it.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Locator } from 'playwright-core';
import sharp from 'sharp';
import { befriend, launchBrowser, OUTPUT_DIR, registerUser, type ChatUser } from './browser';
import { startServerProcess, type ServerProcess } from './server-process';

/** Names unique per run, so a rerun against a kept database never collides. */
const run = Date.now().toString(36).slice(-5);

/** Larger than a thumbnail (256 px), so the viewer showing this width proves it opened the full image. */
const IMAGE = { width: 640, height: 480 };
const TEXT = `notes of run ${run}\n`;

/** The width the image decoded to, once it has loaded; fails when it does not load (broken URL, blocked by CSP). */
async function loadedWidth(image: Locator): Promise<number> {
  await image.waitFor();
  // Runs in the page; the test's tsconfig has no DOM types, hence the casts.
  const width = (img: unknown) => {
    const { complete, naturalWidth } = img as { complete: boolean; naturalWidth: number };
    return complete ? naturalWidth : 0;
  };
  await image.page().waitForFunction(width, await image.elementHandle());
  return image.evaluate(width);
}

describe('media messages in the web app in Chromium', () => {
  let server: ServerProcess;
  let browser: Browser;
  let alice: ChatUser;
  let bob: ChatUser;
  let dir: string;
  let imageFile: string;
  let textFile: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'im-media-'));
    imageFile = path.join(dir, `sunset-${run}.png`);
    textFile = path.join(dir, `notes-${run}.txt`);
    const background = { r: 220, g: 90, b: 40 };
    writeFileSync(imageFile, await sharp({ create: { ...IMAGE, channels: 3, background } }).png().toBuffer());
    writeFileSync(textFile, TEXT);
    [server, browser] = await Promise.all([startServerProcess(), launchBrowser()]);
    // With PUBLIC_URL unset the media URLs are root-relative: opened at 127.0.0.1 (not the localhost the README
    // names), every upload and image must still be same-origin, and anything else counts as offsite.
    alice = await registerUser(browser, server.url, `alice_${run}`, 'Alice');
    bob = await registerUser(browser, server.url, `bob_${run}`, 'Bob');
    await befriend(alice, bob);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('should upload an attached image and file and show them to the sender once sent', async () => {
    await alice.page.getByTestId(`contact-${bob.username}`).click();
    await alice.page.getByTestId('composer-file').setInputFiles([imageFile, textFile]);

    const sent = alice.page.getByTestId('message');
    expect(await loadedWidth(sent.getByTestId('media-thumbnail'))).toBeGreaterThan(0);
    await sent.getByTestId('media-file').filter({ hasText: path.basename(textFile) }).waitFor();
    await alice.page.getByTestId('pending-message').waitFor({ state: 'detached' });
  });

  it('should show the receiver the image thumbnail, open the full image, and offer the file as a download', async () => {
    await bob.page.getByTestId(`contact-${alice.username}`).click();
    const thumbnail = bob.page.getByTestId('media-thumbnail');
    const thumbnailWidth = await loadedWidth(thumbnail);
    expect(thumbnailWidth).toBeGreaterThan(0);
    expect(thumbnailWidth).toBeLessThanOrEqual(256);

    const link = bob.page.getByTestId('media-file');
    expect(await link.locator('.file-name').textContent()).toBe(path.basename(textFile));
    const [download] = await Promise.all([bob.page.waitForEvent('download'), link.click()]);
    expect(download.suggestedFilename()).toBe(path.basename(textFile));
    expect(readFileSync(await download.path(), 'utf8')).toBe(TEXT);
    await bob.page.screenshot({ path: path.join(OUTPUT_DIR, 'media-chat.png') });

    await bob.page.getByTestId('media-image').click();
    expect(await loadedWidth(bob.page.getByTestId('image-full'))).toBe(IMAGE.width);
    await bob.page.screenshot({ path: path.join(OUTPUT_DIR, 'image-viewer.png') });
    await bob.page.keyboard.press('Escape');
    await bob.page.getByTestId('image-viewer').waitFor({ state: 'detached' });
  });

  it('should show no attachment once its message is recalled', async () => {
    const file = alice.page.getByTestId('message').filter({ has: alice.page.getByTestId('media-file') });
    await file.getByTestId('recall').click();
    await bob.page.locator('[data-testid=message][data-status=RECALLED]').getByText('Message recalled').waitFor();
    expect(await bob.page.getByTestId('media-file').count()).toBe(0);
    expect(await bob.page.getByTestId('media-thumbnail').count()).toBe(1);
  });

  it('should make no request to any other origin', () => {
    expect([...alice.offsite, ...bob.offsite]).toEqual([]);
  });
});
